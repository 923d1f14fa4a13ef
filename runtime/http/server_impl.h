// Server::Impl, shared by the files that implement the server (internal to runtime/http):
//
//   server.cc        the public Server methods: start, stop accepting, drain, stop
//   accept.cc        the accept loop and the accept balancing between worker processes
//   session.cc       one connection: read a request, route it, answer it, keep-alive
//   php_exchange.cc  a PHP request: hand it to the PHP thread, relay its response
//   dispatch.cc      moving a connection to an idle worker process, and taking one in
//
// Threading: every coroutine of a connection runs on that connection's io_context (one I/O
// thread each); the accept loop and the balancing timers run on iocs[0]. What another thread may
// touch is atomic or behind sessions_mu / drained_mu.
#ifndef EPHPM_RUNTIME_HTTP_SERVER_IMPL_H_
#define EPHPM_RUNTIME_HTTP_SERVER_IMPL_H_

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/http/body_spool.h"
#include "runtime/http/handoff.h"
#include "runtime/http/server.h"

namespace ephpm::http {

class AccessLog;
class Handoff;
class JobQueue;
class MimeTypes;
class Router;
struct Route;
struct Target;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

using RequestParser = bhttp::request_parser<SpoolBody>;

// What Server::Drain may see of a connection (read and written on the connection's
// io_context only).
struct SessionCtl {
  asio::io_context* ioc = nullptr;
  beast::tcp_stream* stream = nullptr;  // null once the session ended
  beast::flat_buffer* buffer = nullptr;  // bytes read and not yet parsed
  bool may_hand_off = true;   // false for a request that was handed to this worker
  bool handed_off = false;    // the connection went to another worker (dispatch.cc)
  // Waiting for the first byte of the next request, since idle_since (the accept, then the end
  // of each response).
  bool idle = true;
  std::chrono::steady_clock::time_point idle_since = std::chrono::steady_clock::now();
  bool closing = false;  // the drain cancelled the idle wait to close the connection
};

// A draining server closes a keep-alive connection only after it has been idle this long (or,
// sooner, after answering its next request with `Connection: close`). A client that uses its
// connection never waits that long between requests, so it is never closed under a request it
// is sending; and a client that has just connected (the worker accepted it a moment before it
// stopped accepting) gets the time to send its first request.
constexpr auto kDrainIdleGrace = std::chrono::seconds(1);

// After the last response on a connection the server half-closes it and reads (and drops) what
// the client still sends, until the client closes too, for at most this long: closing a socket
// with unread input sends a reset, which can destroy the response on its way to the client (a
// pipelined request, an unread body after a 413).
constexpr auto kLingerAfterClose = std::chrono::seconds(1);

struct Server::Impl {
  Impl(Server* owner, const config::Config& cfg, Router* router, const MimeTypes* mime,
       JobQueue* queue, AccessLog* log)
      : owner(owner), cfg(cfg), router(router), mime(mime), queue(queue), access_log(log) {}

  Server* owner;
  const config::Config& cfg;
  Router* router;
  const MimeTypes* mime;
  JobQueue* queue;
  AccessLog* access_log;

  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> next_ioc{0};

  std::mutex sessions_mu;
  std::set<std::shared_ptr<SessionCtl>> sessions;
  std::mutex drained_mu;
  std::condition_variable drained_cv;

  // --- accept.cc ---------------------------------------------------------------------------
  // Accept balancing between worker processes that share the listening socket (BalanceAccepts):
  // `load` counts PHP requests in flight (queued, running or being written) plus accepted
  // connections whose first request is not answered yet. While it is non-zero and another
  // worker reports itself idle, the accept loop waits (re-checking every balance_poll) so that
  // the idle worker takes the next connection.
  std::chrono::microseconds balance_poll{0};  // 0 = off
  Server::Balance balance;
  std::atomic<int> load{0};
  std::unique_ptr<asio::steady_timer> gate;   // on iocs[0], cancelled when load drops to 0
  std::unique_ptr<asio::steady_timer> watch;  // on iocs[0], see Watch()
  bool parked = false;                        // iocs[0] only: the loop waits in async_accept
  bool watching = false;                      // iocs[0] only

  awaitable<void> Accept();
  void LoadUp();
  void LoadDown();
  void Watch();

  // --- dispatch.cc -------------------------------------------------------------------------
  Handoff* handoff = nullptr;
  std::atomic<int> php_jobs{0};  // PHP jobs queued or running (PhpExchange::CountAsBusy)
  std::unique_ptr<asio::posix::stream_descriptor> handoff_in;  // on iocs[0]

  // In RunPhp, before queueing: true when the connection went to an idle worker (the session
  // then ends without touching the socket).
  bool TryHandOff(beast::tcp_stream& stream, RequestParser& parser, SessionCtl* ctl);
  awaitable<void> ReceiveHandoffs();
  // Any thread: no more connections are taken in (those still in transit stay queued).
  void StopReceivingHandoffs();
  // A handed request as if this session had read it. false: the connection is closed.
  bool AdoptRequest(HandedConnection& handed, RequestParser& parser, bool* keep_alive);

  // --- session.cc --------------------------------------------------------------------------
  awaitable<void> Session(tcp::socket socket, asio::io_context* ioc,
                          std::unique_ptr<HandedConnection> handed);
  awaitable<void> RunSession(tcp::socket socket, SessionCtl* ctl,
                             std::unique_ptr<HandedConnection> handed);
  // Waits for the first byte of the next request. false: the connection is to be closed (idle
  // timeout, the client closed it, or the drain closed it while idle).
  awaitable<bool> AwaitRequest(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                               SessionCtl* ctl);
  awaitable<void> LingeringClose(beast::tcp_stream& stream);
  // Reads one request (headers, then the body) into `parser`. Answers malformed, oversized or
  // timed-out requests itself and returns false: the connection then closes.
  awaitable<bool> ReadRequest(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                              RequestParser& parser, bool* keep_alive);
  // Routes and answers a request that was read completely. false: the connection is unusable.
  // *route_kind: who answered (metrics.h Route).
  awaitable<bool> Respond(beast::tcp_stream& stream, RequestParser& parser,
                          const tcp::endpoint& local, const tcp::endpoint& remote, SessionCtl* ctl,
                          bool& keep_alive, int* status, uint64_t* bytes, int* route_kind);
  awaitable<bool> ServeStatic(beast::tcp_stream& stream, bhttp::request<SpoolBody>& req,
                              const Route& route, unsigned version, bool& keep_alive, bool head,
                              int* status, uint64_t* bytes);
  awaitable<bool> SendError(beast::tcp_stream& stream, int status, unsigned version,
                            bool keep_alive, bool head, const std::string& allow = "");

  // --- php_exchange.cc ---------------------------------------------------------------------
  awaitable<bool> RunPhp(beast::tcp_stream& stream, RequestParser& parser, const Target& target,
                         const Route& route, const tcp::endpoint& local,
                         const tcp::endpoint& remote, SessionCtl* ctl, unsigned version,
                         bool& keep_alive, bool head, int* status, uint64_t* bytes);

  template <class Res>
  awaitable<bool> Write(beast::tcp_stream& stream, Res& res) {
    beast::error_code ec;
    stream.expires_after(Secs(cfg.server.request_timeout));
    co_await bhttp::async_write(stream, res, redirect_error(use_awaitable, ec));
    co_return !ec;
  }

  std::chrono::steady_clock::duration Secs(double s) const {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(s));
  }
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_SERVER_IMPL_H_
