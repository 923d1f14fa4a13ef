// One HTTP/1.1 connection: read a request, route it, answer it, and again while keep-alive
// lasts.
//
// A connection is one coroutine on its I/O thread. It reads a whole request (headers, then the
// body up to max_body_size) before routing it, so the PHP thread never waits for a client's
// upload; it answers static files, redirects and errors itself (router.h decides which) and
// hands PHP requests to the PHP thread (php_exchange.cc). The next request is read only after
// the response is written, so pipelined requests are answered in order. Every limit of the
// configuration is enforced here: header size and read time (431, 408), body size (413, also
// before `100 Continue`), bodies in memory (body_spool.h: a temp file above body_buffer_size,
// 503 beyond max_buffered_bodies), idle keep-alive time.

#include <spdlog/spdlog.h>

#include "runtime/ascii.h"
#include "runtime/http/access_log.h"
#include "runtime/http/framing.h"
#include "runtime/http/metrics.h"
#include "runtime/http/mime.h"
#include "runtime/http/response_headers.h"
#include "runtime/http/router.h"
#include "runtime/http/server_impl.h"

namespace ephpm::http {
namespace {

// The fields CheckFraming() decides on; views into req.
RequestHead FramingFields(const bhttp::request<SpoolBody>& req) {
  RequestHead head;
  head.version = req.version();
  for (const auto& f : req) {
    std::string_view value(f.value().data(), f.value().size());
    if (f.name() == bhttp::field::transfer_encoding) head.transfer_encoding.push_back(value);
    if (f.name() == bhttp::field::content_length) head.content_length.push_back(value);
    if (f.name() == bhttp::field::host) head.host.push_back(value);
  }
  return head;
}

std::string_view View(boost::beast::string_view s) { return std::string_view(s.data(), s.size()); }

void LogAccess(AccessLog* log, const bhttp::request<SpoolBody>& req, const tcp::endpoint& remote,
               int status, uint64_t bytes, std::chrono::steady_clock::time_point start) {
  std::string address = remote.address().to_string();
  AccessEntry e;
  e.time = std::chrono::system_clock::now();
  e.remote = address;
  e.method = View(req.method_string());
  e.target = View(req.target());
  e.version = req.version();
  e.status = status;
  e.bytes = bytes;
  e.micros = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::steady_clock::now() - start)
                 .count();
  e.referer = View(req[bhttp::field::referer]);
  e.user_agent = View(req[bhttp::field::user_agent]);
  e.host = View(req[bhttp::field::host]);
  log->Log(e);
}

}  // namespace

awaitable<void> Server::Impl::Session(tcp::socket socket, asio::io_context* ioc,
                                      std::unique_ptr<HandedConnection> handed) {
  auto ctl = std::make_shared<SessionCtl>();
  ctl->ioc = ioc;
  {
    std::lock_guard<std::mutex> lock(sessions_mu);
    sessions.insert(ctl);
  }
  try {
    co_await RunSession(std::move(socket), ctl.get(), std::move(handed));
  } catch (const std::exception& e) {
    spdlog::error("connection: {}", e.what());
  } catch (...) {
    spdlog::error("connection: unknown exception");
  }
  ctl->stream = nullptr;
  {
    std::lock_guard<std::mutex> lock(sessions_mu);
    sessions.erase(ctl);
  }
  if (--owner->active_ == 0) {
    std::lock_guard<std::mutex> lock(drained_mu);
    drained_cv.notify_all();
  }
}

awaitable<void> Server::Impl::RunSession(tcp::socket socket, SessionCtl* ctl,
                                         std::unique_ptr<HandedConnection> handed) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  tcp::endpoint remote = socket.remote_endpoint(ec);
  tcp::endpoint local = socket.local_endpoint(ec);
  beast::tcp_stream stream(std::move(socket));
  ctl->stream = &stream;
  beast::flat_buffer buffer;
  ctl->buffer = &buffer;
  if (handed) {  // what the sending worker had read after the request
    buffer.commit(asio::buffer_copy(buffer.prepare(handed->leftover.size()),
                                    asio::buffer(handed->leftover)));
  }
  struct FreshGuard {  // balancing: the first request of a new connection counts as load
    Impl* impl;
    bool fresh = true;
    void Done() {
      if (fresh) impl->LoadDown();
      fresh = false;
    }
    ~FreshGuard() { Done(); }
  } fresh{this};

  for (;;) {
    auto start = std::chrono::steady_clock::now();
    RequestParser parser;
    bool keep_alive = false;
    if (handed) {  // the first request was read by the worker that handed the connection over
      ctl->may_hand_off = false;
      ctl->idle = false;
      bool adopted = AdoptRequest(*handed, parser, &keep_alive);
      handed.reset();
      if (!adopted) break;
    } else {
      ctl->may_hand_off = true;
      if (!co_await AwaitRequest(stream, buffer, ctl)) break;
      start = std::chrono::steady_clock::now();
      if (!co_await ReadRequest(stream, buffer, parser, &keep_alive)) break;
    }
    metrics::RequestStarted();  // a handed request counts where it is answered
    int status = 0;
    uint64_t bytes = 0;
    int route = metrics::kRouteOther;
    bool ok = co_await Respond(stream, parser, local, remote, ctl, keep_alive, &status, &bytes,
                               &route);
    fresh.Done();
    // A request handed to another worker (status 0) only leaves this worker's in-flight gauge;
    // the receiving worker counts and logs it.
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    metrics::RequestFinished(route, ctl->handed_off ? 0 : status,
                             static_cast<uint64_t>(micros.count()));
    if (ctl->handed_off) co_return;  // the socket is the other worker's now
    if (access_log->enabled()) LogAccess(access_log, parser.get(), remote, status, bytes, start);
    if (!ok || !keep_alive) break;
    ctl->idle_since = std::chrono::steady_clock::now();
  }
  co_await LingeringClose(stream);
}

awaitable<bool> Server::Impl::AwaitRequest(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                           SessionCtl* ctl) {
  if (buffer.size() > 0) co_return true;  // pipelined: the next request is already here
  ctl->idle = true;
  stream.expires_after(Secs(cfg.server.idle_timeout));
  for (;;) {
    beast::error_code ec;
    size_t n = co_await stream.async_read_some(buffer.prepare(16 * 1024),
                                               redirect_error(use_awaitable, ec));
    if (!ec) {
      buffer.commit(n);
      break;
    }
    // The drain closes an idle connection by cancelling this read. Bytes that arrived
    // meanwhile are the client's next request: serve it (the answer says Connection: close).
    beast::error_code ignored;
    if (ec == asio::error::operation_aborted && ctl->closing &&
        stream.socket().available(ignored) > 0) {
      continue;
    }
    ctl->idle = false;
    co_return false;
  }
  ctl->idle = false;
  co_return true;
}

awaitable<void> Server::Impl::LingeringClose(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    char discard[4096];
    stream.expires_after(kLingerAfterClose);
    while (!ec) {
      co_await stream.async_read_some(asio::buffer(discard), redirect_error(use_awaitable, ec));
    }
  }
  stream.close();
}

awaitable<bool> Server::Impl::ReadRequest(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                          RequestParser& parser, bool* keep_alive) {
  const config::ServerConfig& sc = cfg.server;
  beast::error_code ec;
  parser.header_limit(static_cast<uint32_t>(sc.max_header_size));
  parser.body_limit(sc.max_body_size);
  stream.expires_after(Secs(sc.header_read_timeout));
  co_await bhttp::async_read_header(stream, buffer, parser, redirect_error(use_awaitable, ec));
  if (ec) {
    if (ec == bhttp::error::header_limit) {
      co_await SendError(stream, 431, 11, false, false);
    } else if (ec == bhttp::error::body_limit) {  // Content-Length above max_body_size
      co_await SendError(stream, 413, 11, false, false);
    } else if (ec == beast::error::timeout) {
      co_await SendError(stream, 408, 11, false, false);
    } else if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
               ec != asio::error::connection_reset && ec != asio::error::operation_aborted &&
               ec != bhttp::error::partial_message) {
      co_await SendError(stream, 400, 11, false, false);
    }
    co_return false;
  }
  auto& req = parser.get();
  unsigned version = req.version();
  bool head = req.method() == bhttp::verb::head;
  if (version != 10 && version != 11) {
    co_await SendError(stream, 505, 11, false, head);
    co_return false;
  }
  *keep_alive = req.keep_alive() && !stopping;
  // Before any body byte is read: a request we cannot frame ends the connection.
  FramingVerdict framing = CheckFraming(FramingFields(req));
  if (!framing.ok()) {
    spdlog::debug("{}: request refused with {}: {}",
                  stream.socket().remote_endpoint(ec).address().to_string(), framing.status,
                  framing.reason);
    co_await SendError(stream, framing.status, version, false, head);
    co_return false;
  }
  if (parser.content_length() && *parser.content_length() > sc.max_body_size) {
    co_await SendError(stream, 413, version, false, head);
    co_return false;
  }
  if (parser.is_done()) co_return true;
  // Before 100 Continue: a body that would go beyond max_buffered_bodies is not read.
  if (!SpoolBody::Prepare(req.body(), sc.body_buffer_size, sc.max_buffered_bodies,
                          parser.content_length())) {
    metrics::Rejected(metrics::kRejectBodyMemory);
    co_await SendError(stream, 503, version, false, head);
    co_return false;
  }
  auto expect = req[bhttp::field::expect];
  if (!expect.empty()) {
    if (!AsciiIEquals(std::string_view(expect.data(), expect.size()), "100-continue")) {
      co_await SendError(stream, 417, version, false, head);
      co_return false;
    }
    if (version == 11) {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      stream.expires_after(Secs(sc.request_timeout));
      co_await asio::async_write(stream, asio::buffer(kContinue, sizeof kContinue - 1),
                                 redirect_error(use_awaitable, ec));
      if (ec) co_return false;
    }
  }
  stream.expires_after(Secs(sc.request_timeout));
  co_await bhttp::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      co_await SendError(stream, 413, version, false, head);
    } else if (ec == SpoolBody::OverBudget()) {  // a chunked body past max_buffered_bodies
      metrics::Rejected(metrics::kRejectBodyMemory);
      co_await SendError(stream, 503, version, false, head);
    } else if (ec == SpoolBody::SpoolFailed()) {
      co_await SendError(stream, 500, version, false, head);
    } else if (ec == beast::error::timeout) {
      co_await SendError(stream, 408, version, false, head);
    } else if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
               ec != asio::error::connection_reset) {
      co_await SendError(stream, 400, version, false, head);
    }
    co_return false;
  }
  co_return true;
}

awaitable<bool> Server::Impl::Respond(beast::tcp_stream& stream, RequestParser& parser,
                                      const tcp::endpoint& local, const tcp::endpoint& remote,
                                      SessionCtl* ctl, bool& keep_alive, int* status,
                                      uint64_t* bytes, int* route_kind) {
  auto& req = parser.get();
  unsigned version = req.version();
  bool head = req.method() == bhttp::verb::head;
  if (stopping) keep_alive = false;  // draining: this is the connection's last response
  Target target;
  std::string why;
  if (!ParseTarget(std::string_view(req.target().data(), req.target().size()), &target, &why)) {
    *status = 400;
    co_return co_await SendError(stream, 400, version, keep_alive, head);
  }
  Route route = router->Resolve(std::string(req.method_string()), target);
  switch (route.kind) {
    case RouteKind::kError:
      *status = route.status;
      co_return co_await SendError(stream, route.status, version, keep_alive, head,
                                   route.status == 405 ? "GET, HEAD" : "");
    case RouteKind::kRedirect: {
      bhttp::response<bhttp::string_body> res{bhttp::status::permanent_redirect, version};
      CommonHeaders(res, keep_alive);
      res.set(bhttp::field::location, route.location);
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      res.body() = "308 Permanent Redirect\n";
      res.prepare_payload();
      if (head) res.body().clear();
      *status = 308;
      co_return co_await Write(stream, res);
    }
    case RouteKind::kStatic:
      *route_kind = metrics::kRouteStatic;
      co_return co_await ServeStatic(stream, req, route, version, keep_alive, head, status,
                                     bytes);
    case RouteKind::kPhp: {
      struct PhpLoad {
        Impl* impl;
        ~PhpLoad() {
          impl->LoadDown();
          metrics::PhpFinished();
        }
      } php_load{this};
      LoadUp();
      metrics::PhpStarted();
      *route_kind = metrics::kRoutePhp;
      co_return co_await RunPhp(stream, parser, target, route, local, remote, ctl, version,
                                keep_alive, head, status, bytes);
    }
  }
  co_return false;
}

awaitable<bool> Server::Impl::SendError(beast::tcp_stream& stream, int status, unsigned version,
                                        bool keep_alive, bool head, const std::string& allow) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version};
  CommonHeaders(res, keep_alive);
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  if (!allow.empty()) res.set(bhttp::field::allow, allow);
  if (status == 503) res.set(bhttp::field::retry_after, "1");
  res.body() = std::to_string(status) + " " + ReasonFor(status) + "\n";
  res.prepare_payload();
  if (head) res.body().clear();
  co_return co_await Write(stream, res);
}

}  // namespace ephpm::http
