// The HTTP/1.1 front end of `ephpm serve` (docs/embedding-php.md section 15).
//
// N I/O threads, one io_context each; connections are spread round-robin. Each connection is one
// coroutine that reads a whole request, routes it (router.h), and either answers from the I/O
// thread (static files, redirects, errors) or hands a PhpJob to the bounded JobQueue
// (job_queue.h) that the process's one PHP thread drains (worker.h). The listening socket is
// opened by the caller (listener.h) and adopted by Start(), so worker processes can share it.
// How the implementation is split across files: server_impl.h.
#ifndef EPHPM_RUNTIME_HTTP_SERVER_H_
#define EPHPM_RUNTIME_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "runtime/config/config.h"

namespace ephpm::http {

class AccessLog;
class Handoff;
class JobQueue;
class MimeTypes;
class Router;

class Server {
 public:
  Server(const config::Config& config, Router* router, const MimeTypes* mime, JobQueue* queue,
         AccessLog* access_log);
  ~Server();

  // Adopts listen_fd and starts the I/O threads; nothing is accepted before StartAccepting().
  // Call with every blockable signal blocked in the calling thread, so the I/O threads inherit
  // that mask.
  void Start(int listen_fd);
  // Takes connections from the listening socket from now on (any thread, after Start()).
  void StartAccepting();
  // Prefork workers sharing one listening socket (supervisor.h): while this server has PHP work
  // in flight (or a new connection not yet answered) and others_idle() says another worker is
  // idle, its next accept waits (re-checking every `poll`) so that the idle worker takes the
  // connection; when every worker is busy, accepts are not delayed. busy_changed(b) is called
  // (from I/O threads) when this server becomes busy or idle. Call before Start(). Off by
  // default.
  struct Balance {
    std::function<bool()> others_idle;
    std::function<void(bool busy)> busy_changed;
  };
  void BalanceAccepts(Balance balance, std::chrono::microseconds poll);
  // Prefork workers (handoff.h, README "Dispatch"): a PHP request read while this process's PHP
  // thread is busy goes, with its connection, to an idle worker; connections handed to this
  // worker are taken from StartAccepting() on until the drain ends. Call before Start().
  void DispatchWith(Handoff* handoff);
  // Stops accepting new connections.
  void StopAccepting();
  // Closes idle keep-alive connections and makes busy ones close after their current response;
  // waits up to `timeout` for all connections to end. Returns true when none is left.
  bool Drain(std::chrono::milliseconds timeout);
  // Stops the I/O threads (remaining connections are dropped) and joins them.
  void Stop();

  size_t active_connections() const { return active_.load(); }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<size_t> active_{0};
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_SERVER_H_
