// The HTTP/1.1 front end of `ephpm serve` (embedding-php.md section 15).
//
//  * N I/O threads, one io_context each; connections are spread round-robin. Each connection is
//    one coroutine that reads a whole request (headers, then the body up to max_body_size),
//    routes it (router.h), and either answers from the I/O thread (static files, redirects,
//    errors) or hands a PhpJob to the bounded JobQueue that the single PHP thread drains. The
//    next request on the connection is read only after the response is written, so pipelined
//    requests are answered in order.
//  * The listening socket is opened separately (OpenListener) and handed to Start(), so a future
//    master process can open it once and let forked workers share it.
#ifndef EPHPM_RUNTIME_HTTP_SERVER_H_
#define EPHPM_RUNTIME_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/php/request_sapi.h"

namespace ephpm::http {

class Router;
class MimeTypes;
class AccessLog;

// One request for the PHP thread: its inputs and the connection-side writer.
struct PhpJob {
  php::RequestInfo info;
  std::shared_ptr<php::ResponseWriter> writer;
};

// Bounded multi-producer, single-consumer queue (mutex + condvar).
class JobQueue {
 public:
  explicit JobQueue(size_t capacity) : capacity_(capacity) {}
  // false when full or closed (the caller answers 503).
  bool TryPush(std::unique_ptr<PhpJob> job);
  // Blocks; nullptr once closed and empty.
  std::unique_ptr<PhpJob> Pop();
  // Like Pop(), but returns nullptr at `deadline` too; *closed is true when the queue is closed
  // and empty (worker mode's back-off between boot attempts).
  std::unique_ptr<PhpJob> PopUntil(std::chrono::steady_clock::time_point deadline, bool* closed);
  void Close();
  size_t size();

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<PhpJob>> jobs_;
  bool closed_ = false;
  std::atomic<size_t> pending_{0};  // jobs_.size() readable without the lock (spin phase)
  bool sleeping_ = false;           // the consumer waits on cv_ (guarded by mu_)
};

// How long the PHP thread polls an empty queue before it sleeps (see JobQueue::Pop).
inline constexpr int kSpinMicros = 50;

// Streaming responses: the PHP thread blocks while this much output is not yet written.
inline constexpr size_t kStreamHighWater = 256 * 1024;

// Opens, binds and listens (SO_REUSEADDR, backlog 1024, close-on-exec). Returns the fd or -1
// with *error. *url receives "http://host:port/" with the real port (listen port 0 picks one).
int OpenListener(const config::ListenAddress& address, std::string* url, std::string* error);

class Server {
 public:
  Server(const config::Config& config, Router* router, const MimeTypes* mime, JobQueue* queue,
         AccessLog* access_log);
  ~Server();

  // Adopts listen_fd and starts the I/O threads. Call with every blockable signal blocked in
  // the calling thread, so the I/O threads inherit that mask.
  void Start(int listen_fd);
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

// Access log in the common log format plus duration (microseconds); "" = off, "-" = stdout.
class AccessLog {
 public:
  explicit AccessLog(const std::string& target);
  ~AccessLog();
  bool enabled() const { return file_ != nullptr; }
  void Write(const std::string& line);

 private:
  std::mutex mu_;
  FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_SERVER_H_
