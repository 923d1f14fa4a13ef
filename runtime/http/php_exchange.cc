// A PHP request on the connection side: build the request for the PHP thread, queue it, and
// relay what the script produces (PhpExchange, php_exchange.h) to the client.
//
// A buffered response goes out with Content-Length in one write. Once the script streams
// (flush(), or output above the SAPI's threshold), the headers go out at once and every chunk
// as it arrives: chunked for HTTP/1.1, close-delimited for HTTP/1.0. A script that dies after
// streaming began gets its connection closed without the last chunk, so the client sees a
// truncated response instead of a complete-looking one. A failed write marks the exchange gone,
// which aborts the script at its next output (ignore_user_abort is honoured by PHP).
#include "runtime/http/php_exchange.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "runtime/http/job_queue.h"
#include "runtime/http/metrics.h"
#include "runtime/http/request_info.h"
#include "runtime/http/response_headers.h"
#include "runtime/http/router.h"
#include "runtime/http/server_impl.h"

namespace ephpm::http {

// ---------------------------------------------------------------------------------------------
// PhpExchange
// ---------------------------------------------------------------------------------------------

namespace {

// What Take() reads from the temp file at a time (the I/O thread preads it).
constexpr size_t kSpillPiece = 256 * 1024;

const char* TempDir() {
  const char* dir = getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

}  // namespace

PhpExchange::PhpExchange(asio::io_context& ioc) : ioc_(ioc), signal_(ioc) {
  signal_.expires_at(asio::steady_timer::time_point::max());
}

PhpExchange::~PhpExchange() {
  ReleaseBusyLocked();  // no other reference is left: nothing else can hold mu_
  if (spill_fd_ >= 0) close(spill_fd_);
}

void PhpExchange::CountAsBusy(std::atomic<int>* busy) {
  std::lock_guard<std::mutex> lock(mu_);
  busy->fetch_add(1, std::memory_order_relaxed);
  busy_ = busy;
}

void PhpExchange::ReleaseBusyLocked() {
  if (busy_ == nullptr) return;
  busy_->fetch_sub(1, std::memory_order_relaxed);
  busy_ = nullptr;
}

void PhpExchange::Complete(int status, std::vector<std::string> lines, std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
  lines_ = std::move(lines);
  body_ = std::move(body);
  complete_ = true;
  finished_ = true;
  ReleaseBusyLocked();
  NotifyLocked();
}

bool PhpExchange::StartStreaming(int status, std::vector<std::string> lines) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
  lines_ = std::move(lines);
  streaming_ = true;
  NotifyLocked();
  return !gone_;
}

bool PhpExchange::StreamChunk(std::string_view data) {
  std::unique_lock<std::mutex> lock(mu_);
  drained_.wait(lock, [&] {
    return gone_ || (spill_failed_ ? body_.size() < kStreamHighWater
                                   : spill_write_ - spill_read_ < kResponseSpillMax);
  });
  if (gone_) return false;
  if (!AppendLocked(data)) {
    gone_ = true;  // the output is lost: the client gets a truncated response
    NotifyLocked();
    return false;
  }
  NotifyLocked();
  return true;
}

bool PhpExchange::AppendLocked(std::string_view data) {
  bool file_pending = spill_write_ > spill_read_;
  if (!file_pending && (spill_failed_ || body_.size() + data.size() <= kResponseMemory)) {
    body_.append(data);
    return true;
  }
  if (SpillLocked(data)) return true;
  if (file_pending) return false;  // memory would overtake what waits in the file
  spill_failed_ = true;
  body_.append(data);
  return true;
}

bool PhpExchange::SpillLocked(std::string_view data) {
  if (spill_fd_ < 0) {
    spill_fd_ = open(TempDir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (spill_fd_ < 0) {
      spdlog::warn("response buffer: cannot create a temp file in {}: {}; a slow client will "
                   "hold PHP",
                   TempDir(), strerror(errno));
      return false;
    }
  }
  while (!data.empty()) {
    ssize_t n = pwrite(spill_fd_, data.data(), data.size(), static_cast<off_t>(spill_write_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::warn("response buffer: writing the temp file: {}", strerror(n < 0 ? errno : EIO));
      return false;
    }
    spill_write_ += static_cast<uint64_t>(n);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void PhpExchange::TakeOutputLocked(std::string* out) {
  out->swap(body_);
  if (!out->empty() || spill_read_ == spill_write_) return;
  size_t want = static_cast<size_t>(std::min<uint64_t>(kSpillPiece, spill_write_ - spill_read_));
  out->resize(want);
  ssize_t n;
  do {
    n = pread(spill_fd_, out->data(), want, static_cast<off_t>(spill_read_));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {  // cannot happen short of a broken disk: end the response as broken
    out->clear();
    spill_read_ = spill_write_;
    gone_ = true;
    stream_ok_ = false;
    return;
  }
  out->resize(static_cast<size_t>(n));
  spill_read_ += static_cast<uint64_t>(n);
  if (spill_read_ == spill_write_) {  // all sent: the next output starts in memory again
    spill_read_ = spill_write_ = 0;
    int ignored = ftruncate(spill_fd_, 0);
    (void)ignored;
  }
}

void PhpExchange::EndStream(bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  stream_ok_ = stream_ok_ && ok;  // a failed temp-file read has already broken the stream
  ReleaseBusyLocked();
  NotifyLocked();
}

bool PhpExchange::ClientGone() {
  std::lock_guard<std::mutex> lock(mu_);
  return gone_;
}

PhpExchange::Events PhpExchange::Take() {
  Events e;
  std::lock_guard<std::mutex> lock(mu_);
  notify_pending_ = false;
  if (complete_) {
    if (!taken_headers_) {
      taken_headers_ = true;
      e.complete = true;
      e.finished = true;
      e.status = status_;
      e.lines = std::move(lines_);
      e.data = std::move(body_);
    }
    return e;
  }
  if (streaming_ && !taken_headers_) {
    taken_headers_ = true;
    e.start_stream = true;
    e.status = status_;
    e.lines = std::move(lines_);
  }
  if (streaming_) {
    TakeOutputLocked(&e.data);
    drained_.notify_all();
  }
  if (finished_ && body_.empty() && spill_read_ == spill_write_ && !finished_taken_) {
    finished_taken_ = true;
    e.finished = true;
    e.ok = stream_ok_;
  }
  return e;
}

void PhpExchange::MarkGone() {
  std::lock_guard<std::mutex> lock(mu_);
  gone_ = true;
  drained_.notify_all();
}

void PhpExchange::NotifyLocked() {
  if (notify_pending_) return;
  notify_pending_ = true;
  asio::post(ioc_, [self = shared_from_this()] { self->signal_.cancel(); });
}

// ---------------------------------------------------------------------------------------------
// The connection side
// ---------------------------------------------------------------------------------------------

namespace {

// Writes what the script produces until its response is complete. Returns whether the
// connection is still usable; keep_alive turns false for a close-delimited (HTTP/1.0) stream.
awaitable<bool> RelayPhpResponse(Server::Impl& impl, beast::tcp_stream& stream,
                                 PhpExchange& exchange, unsigned version, bool& keep_alive,
                                 bool head, int* status, uint64_t* bytes) {
  const double timeout = impl.cfg.server.request_timeout;
  bool ok = true;  // the connection is still usable
  bool stream_started = false;
  bool chunked = version == 11;
  for (;;) {
    PhpExchange::Events e = exchange.Take();
    if (!e.any()) {
      beast::error_code ec;
      co_await exchange.signal().async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    if (impl.stopping) keep_alive = false;  // draining: this is the connection's last response
    if (e.complete) {
      *status = e.status;
      if (!ok) break;
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(e.status), version};
      ApplyPhpHeaders(res, e.lines);
      CommonHeaders(res, keep_alive);
      res.body() = std::move(e.data);
      if (e.status == 204 || e.status == 304 || e.status < 200) {
        res.body().clear();
      } else {
        res.prepare_payload();
      }
      *bytes = res.body().size();
      if (head) res.body().clear();
      ok = co_await impl.Write(stream, res);
      if (!ok) exchange.MarkGone();
      break;
    }
    if (e.start_stream) {
      *status = e.status;
      if (!chunked) keep_alive = false;
      bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(e.status), version};
      ApplyPhpHeaders(res, e.lines);
      CommonHeaders(res, keep_alive);
      if (chunked && !head) res.chunked(true);
      bhttp::response_serializer<bhttp::empty_body> sr{res};
      beast::error_code ec;
      stream.expires_after(impl.Secs(timeout));
      co_await bhttp::async_write_header(stream, sr, redirect_error(use_awaitable, ec));
      stream_started = true;
      if (ec) {
        ok = false;
        exchange.MarkGone();
      }
    }
    if (!e.data.empty() && ok && !head) {
      *bytes += e.data.size();
      beast::error_code ec;
      stream.expires_after(impl.Secs(timeout));
      if (chunked) {
        co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(e.data)),
                                   redirect_error(use_awaitable, ec));
      } else {
        co_await asio::async_write(stream, asio::buffer(e.data),
                                   redirect_error(use_awaitable, ec));
      }
      if (ec) {
        ok = false;
        exchange.MarkGone();
      }
    }
    if (e.finished) {
      if (!e.ok) {
        ok = false;  // truncated: close without the last chunk
      } else if (ok && stream_started && chunked && !head) {
        beast::error_code ec;
        stream.expires_after(impl.Secs(timeout));
        co_await asio::async_write(stream, bhttp::make_chunk_last(),
                                   redirect_error(use_awaitable, ec));
        if (ec) ok = false;
      }
      break;
    }
  }
  co_return ok;
}

}  // namespace

awaitable<bool> Server::Impl::RunPhp(beast::tcp_stream& stream, RequestParser& parser,
                                     const Target& target, const Route& route,
                                     const tcp::endpoint& local, const tcp::endpoint& remote,
                                     SessionCtl* ctl, unsigned version, bool& keep_alive,
                                     bool head, int* status, uint64_t* bytes) {
  if (TryHandOff(stream, parser, ctl)) co_return false;
  auto& req = parser.get();
  auto job = std::make_unique<PhpJob>();
  RequestSource source;
  source.method = std::string_view(req.method_string().data(), req.method_string().size());
  source.target = std::string_view(req.target().data(), req.target().size());
  source.query = target.query;
  source.version = version;
  std::string document_root = router->DocumentRoot();
  source.document_root = document_root;
  std::string local_addr = local.address().to_string();
  std::string remote_addr = remote.address().to_string();
  source.local_addr = local_addr;
  source.local_port = local.port();
  source.remote_addr = remote_addr;
  source.remote_port = remote.port();
  for (const auto& f : req) {
    source.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  source.has_body = parser.chunked() || parser.content_length().has_value();
  source.body = std::move(req.body());
  source.request_time = std::chrono::duration<double>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  job->info = BuildRequestInfo(std::move(source), route);

  auto exchange = std::make_shared<PhpExchange>(*ctl->ioc);
  job->writer = exchange;
  exchange->CountAsBusy(&php_jobs);
  if (!queue->TryPush(std::move(job))) {
    metrics::Rejected(metrics::kRejectQueueFull);
    *status = 503;
    co_return co_await SendError(stream, 503, version, keep_alive, head);
  }
  co_return co_await RelayPhpResponse(*this, stream, *exchange, version, keep_alive, head, status,
                                      bytes);
}

}  // namespace ephpm::http
