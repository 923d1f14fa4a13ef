// A static file on the connection side: the open-file cache (open_file_cache.h), conditionals
// and ranges (static_file.h), then the body. Everything runs on the connection's I/O thread; no
// other thread is involved.
//
// A body of at least kSendfileMin bytes goes out with sendfile(2) after the head (the kernel
// copies the page cache to the socket; no read into user memory; the head waits for it with
// MSG_MORE so both share the first segment). A smaller one goes out with the head in one write
// (FileRangeBody: the open-file cache's copy up to kInlineFileMax, else pread into a pooled
// buffer): one system call where the head plus sendfile would be two.
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <string>

#include "runtime/http/file_body.h"
#include "runtime/http/mime.h"
#include "runtime/http/open_file_cache.h"
#include "runtime/http/response_headers.h"
#include "runtime/http/router.h"
#include "runtime/http/server_impl.h"
#include "runtime/http/static_file.h"

namespace ephpm::http {
namespace {

constexpr uint64_t kSendfileMin = 64 * 1024;
constexpr size_t kSendfilePiece = 1 << 20;  // per call, so one client cannot hog the thread

// Sends [offset, offset + size) of fd on the stream's socket. Each wait for the socket to take
// more is bounded by `timeout` (the same per-write budget as every other response write).
awaitable<bool> SendFileRange(beast::tcp_stream& stream, int fd, uint64_t offset, uint64_t size,
                              std::chrono::steady_clock::duration timeout) {
  tcp::socket& sock = stream.socket();
  beast::error_code ec;
  if (!sock.native_non_blocking()) sock.native_non_blocking(true, ec);  // once per connection
  if (ec) co_return false;
  asio::steady_timer timer(sock.get_executor());
  while (size > 0) {
    off_t off = static_cast<off_t>(offset);
    ssize_t n = ::sendfile(sock.native_handle(), fd, &off,
                           static_cast<size_t>(std::min<uint64_t>(size, kSendfilePiece)));
    if (n > 0) {
      offset += static_cast<uint64_t>(n);
      size -= static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) co_return false;  // shrunk, reset
    timer.expires_after(timeout);
    timer.async_wait([&sock](beast::error_code e) {
      beast::error_code ignored;
      if (!e) sock.cancel(ignored);
    });
    co_await sock.async_wait(tcp::socket::wait_write, redirect_error(use_awaitable, ec));
    timer.cancel();
    if (ec) co_return false;
  }
  co_return true;
}

// Sends the head of a response whose body follows by sendfile. MSG_MORE makes the kernel hold
// the head back until the body's first bytes join it in one segment (nginx corks the socket with
// two setsockopt calls for the same effect); without it the head leaves as a packet of its own
// on a TCP_NODELAY socket. A head the socket does not take at once is written the usual way.
awaitable<bool> SendHeadBeforeBody(beast::tcp_stream& stream, bhttp::response<FileRangeBody>& res,
                                   std::chrono::steady_clock::duration timeout) {
  bhttp::response_serializer<FileRangeBody> serializer{res};
  serializer.split(true);
  std::string head;
  beast::error_code ec;
  while (!ec && !serializer.is_header_done()) {
    serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
      size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        head.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      serializer.consume(n);
    });
  }
  if (ec) co_return false;
  ssize_t sent = ::send(stream.socket().native_handle(), head.data(), head.size(),
                        MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) co_return false;
  size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
  if (done == head.size()) co_return true;
  stream.expires_after(timeout);
  co_await asio::async_write(stream, asio::buffer(head.data() + done, head.size() - done),
                             redirect_error(use_awaitable, ec));
  co_return !ec;
}

}  // namespace

awaitable<bool> Server::Impl::ServeStatic(beast::tcp_stream& stream,
                                          bhttp::request<SpoolBody>& req,
                                          const Route& route, unsigned version, bool& keep_alive,
                                          bool head, int* status, uint64_t* bytes) {
  std::shared_ptr<const OpenFile> file = OpenStaticFile(route.file);
  if (!file) {
    *status = 404;
    co_return co_await SendError(stream, 404, version, keep_alive, head);
  }
  StaticRequest sr;
  auto set = [&](bhttp::field f, std::string_view* out, bool* has) {
    auto it = req.find(f);
    if (it != req.end()) {
      *out = std::string_view(it->value().data(), it->value().size());
      *has = true;
    }
  };
  set(bhttp::field::if_none_match, &sr.if_none_match, &sr.has_if_none_match);
  set(bhttp::field::if_modified_since, &sr.if_modified_since, &sr.has_if_modified_since);
  set(bhttp::field::range, &sr.range, &sr.has_range);
  set(bhttp::field::if_range, &sr.if_range, &sr.has_if_range);
  StaticDecision d = DecideStatic(sr, file->size, file->mtime_sec, file->mtime_nsec);
  bhttp::response<FileRangeBody> res{static_cast<bhttp::status>(d.status), version};
  CommonHeaders(res, keep_alive);
  res.set(bhttp::field::etag, d.etag);
  res.set(bhttp::field::last_modified, d.last_modified);
  *status = d.status;
  if (d.status == 304) co_return co_await Write(stream, res);
  res.set(bhttp::field::accept_ranges, "bytes");
  if (d.status == 416) {
    res.set(bhttp::field::content_range, d.content_range);
    res.content_length(0);
    co_return co_await Write(stream, res);
  }
  res.set(bhttp::field::content_type, mime->Lookup(route.file));
  if (d.status == 206) res.set(bhttp::field::content_range, d.content_range);
  res.content_length(d.length);
  if (head) co_return co_await Write(stream, res);
  *bytes = d.length;
  if (d.length < kSendfileMin) {
    res.body().file = std::move(file);
    res.body().offset = d.offset;
    res.body().size = d.length;
    co_return co_await Write(stream, res);
  }
  if (!co_await SendHeadBeforeBody(stream, res, Secs(cfg.server.request_timeout))) co_return false;
  co_return co_await SendFileRange(stream, file->fd, d.offset, d.length,
                                   Secs(cfg.server.request_timeout));
}

}  // namespace ephpm::http
