#include "runtime/http/server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <set>

#include <spdlog/spdlog.h>

#include "runtime/http/mime.h"
#include "runtime/http/router.h"
#include "runtime/http/static_file.h"

namespace ephpm::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

// ---------------------------------------------------------------------------------------------
// JobQueue
// ---------------------------------------------------------------------------------------------

bool JobQueue::TryPush(std::unique_ptr<PhpJob> job) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || jobs_.size() >= capacity_) return false;
    jobs_.push_back(std::move(job));
    pending_.store(jobs_.size(), std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) cv_.notify_one();
  return true;
}

std::unique_ptr<PhpJob> JobQueue::Pop() {
  // Under load the next job usually arrives within microseconds: poll briefly before sleeping,
  // because a futex sleep + wake-up costs far more than that on virtualised machines.
  auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
  while (pending_.load(std::memory_order_acquire) == 0 &&
         std::chrono::steady_clock::now() < spin_until) {
    __builtin_ia32_pause();
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_ = true;
  cv_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
  sleeping_ = false;
  if (jobs_.empty()) return nullptr;
  auto job = std::move(jobs_.front());
  jobs_.pop_front();
  pending_.store(jobs_.size(), std::memory_order_release);
  return job;
}

std::unique_ptr<PhpJob> JobQueue::PopUntil(std::chrono::steady_clock::time_point deadline,
                                           bool* closed) {
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_ = true;
  cv_.wait_until(lock, deadline, [&] { return closed_ || !jobs_.empty(); });
  sleeping_ = false;
  *closed = closed_ && jobs_.empty();
  if (jobs_.empty()) return nullptr;
  auto job = std::move(jobs_.front());
  jobs_.pop_front();
  pending_.store(jobs_.size(), std::memory_order_release);
  return job;
}

void JobQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    pending_.store(1, std::memory_order_release);
  }
  cv_.notify_all();
}

size_t JobQueue::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

// ---------------------------------------------------------------------------------------------
// AccessLog
// ---------------------------------------------------------------------------------------------

AccessLog::AccessLog(const std::string& target) {
  if (target.empty()) return;
  if (target == "-") {
    file_ = stdout;
    return;
  }
  file_ = fopen(target.c_str(), "ae");
  if (file_ == nullptr) {
    spdlog::error("access_log {}: {}", target, strerror(errno));
  } else {
    owned_ = true;
  }
}

AccessLog::~AccessLog() {
  if (owned_ && file_ != nullptr) fclose(file_);
}

void AccessLog::Write(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return;
  fwrite(line.data(), 1, line.size(), file_);
  fflush(file_);
}

// ---------------------------------------------------------------------------------------------
// Listener
// ---------------------------------------------------------------------------------------------

int OpenListener(const config::ListenAddress& address, std::string* url, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(address.port);
  int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "cannot resolve listen address " + address.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  std::string last_error;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
    last_error = strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    *error = "cannot listen on " + address.host + ":" + port + ": " + last_error;
    return -1;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, serv, sizeof serv,
              NI_NUMERICHOST | NI_NUMERICSERV);
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  *url = "http://" + h + ":" + serv;
  return fd;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const std::string& CachedDate() {
  thread_local time_t last = 0;
  thread_local std::string value;
  time_t now = time(nullptr);
  if (now != last) {
    last = now;
    value = FormatHttpDate(now);
  }
  return value;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(isalnum(static_cast<unsigned char>(c)) || strchr("!#$%&'*+-.^_`|~", c) != nullptr) ||
        c == '\0') {
      return false;
    }
  }
  return true;
}

const char* ReasonFor(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

// A Beast body that streams [offset, offset+size) of an open file with pread.
struct FileRangeBody {
  struct value_type {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t size = 0;
    value_type() = default;
    value_type(value_type&& o) noexcept : fd(o.fd), offset(o.offset), size(o.size) { o.fd = -1; }
    value_type& operator=(value_type&& o) noexcept {
      std::swap(fd, o.fd);
      offset = o.offset;
      size = o.size;
      return *this;
    }
    ~value_type() {
      if (fd >= 0) ::close(fd);
    }
  };
  static uint64_t size(const value_type& v) { return v.size; }

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(beast::error_code& ec) {
      pos_ = body_.offset;
      remain_ = body_.size;
      ec = {};
    }
    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      if (remain_ == 0) {
        ec = {};
        return boost::none;
      }
      if (buf_ == nullptr) buf_ = AcquireBuffer();
      size_t want = remain_ < kChunk ? static_cast<size_t>(remain_) : kChunk;
      ssize_t n = pread(body_.fd, buf_, want, static_cast<off_t>(pos_));
      if (n <= 0) {
        ec = n < 0 ? beast::error_code(errno, beast::system_category())
                   : beast::error_code(asio::error::eof);
        return boost::none;
      }
      pos_ += static_cast<uint64_t>(n);
      remain_ -= static_cast<uint64_t>(n);
      ec = {};
      return {{const_buffers_type(buf_, static_cast<size_t>(n)), remain_ > 0}};
    }

   private:
    static constexpr size_t kChunk = 64 * 1024;
    value_type& body_;
    uint64_t pos_ = 0;
    uint64_t remain_ = 0;
    char* buf_ = nullptr;

    // Buffers are recycled per I/O thread (a writer lives and dies on its connection's
    // thread), so serving a file does not malloc/free 64 KiB each time.
    static std::vector<std::unique_ptr<char[]>>& Pool() {
      thread_local std::vector<std::unique_ptr<char[]>> pool;
      return pool;
    }
    static char* AcquireBuffer() {
      auto& pool = Pool();
      if (pool.empty()) return new char[kChunk];
      char* b = pool.back().release();
      pool.pop_back();
      return b;
    }

   public:
    ~writer() {
      if (buf_ == nullptr) return;
      auto& pool = Pool();
      if (pool.size() < 64) {
        pool.emplace_back(buf_);
      } else {
        delete[] buf_;
      }
    }
  };
};

// The connection side of a PHP request (php::ResponseWriter, called on the PHP thread). Events
// are handed to the connection coroutine by cancelling `signal`, posted to its io_context.
class PhpExchange final : public php::ResponseWriter,
                          public std::enable_shared_from_this<PhpExchange> {
 public:
  explicit PhpExchange(asio::io_context& ioc) : ioc_(ioc), signal_(ioc) {
    signal_.expires_at(asio::steady_timer::time_point::max());
  }

  void Complete(int status, std::vector<std::string> lines, std::string body) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    lines_ = std::move(lines);
    body_ = std::move(body);
    complete_ = true;
    finished_ = true;
    NotifyLocked();
  }
  bool StartStreaming(int status, std::vector<std::string> lines) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    lines_ = std::move(lines);
    streaming_ = true;
    NotifyLocked();
    return !gone_;
  }
  bool StreamChunk(std::string_view data) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (gone_) return false;
    body_.append(data);
    NotifyLocked();
    drained_.wait(lock, [&] { return gone_ || body_.size() < kStreamHighWater; });
    return !gone_;
  }
  void EndStream(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    stream_ok_ = ok;
    NotifyLocked();
  }
  bool ClientGone() override {
    std::lock_guard<std::mutex> lock(mu_);
    return gone_;
  }
  void Cancel() override { MarkGone(); }

  struct Events {
    bool complete = false;      // buffered response ready: status, lines, data = body
    bool start_stream = false;  // streaming headers ready: status, lines
    bool finished = false;
    bool ok = true;
    int status = 200;
    std::vector<std::string> lines;
    std::string data;  // body (complete) or the next chunk (streaming)
    bool any() const { return complete || start_stream || finished || !data.empty(); }
  };

  // I/O side: everything new since the last call.
  Events Take() {
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
      e.data.swap(body_);
      drained_.notify_all();
    }
    if (finished_ && body_.empty() && !finished_taken_) {
      finished_taken_ = true;
      e.finished = true;
      e.ok = stream_ok_;
    }
    return e;
  }
  void MarkGone() {
    std::lock_guard<std::mutex> lock(mu_);
    gone_ = true;
    drained_.notify_all();
  }
  asio::steady_timer& signal() { return signal_; }

 private:
  void NotifyLocked() {
    if (notify_pending_) return;
    notify_pending_ = true;
    asio::post(ioc_, [self = shared_from_this()] { self->signal_.cancel(); });
  }

  asio::io_context& ioc_;
  asio::steady_timer signal_;  // used only on the connection's thread
  std::mutex mu_;
  std::condition_variable drained_;
  bool notify_pending_ = false;
  int status_ = 200;
  std::vector<std::string> lines_;
  std::string body_;
  bool complete_ = false;
  bool streaming_ = false;
  bool finished_ = false;
  bool stream_ok_ = true;
  bool taken_headers_ = false;
  bool finished_taken_ = false;
  bool gone_ = false;
};

struct SessionCtl {
  asio::io_context* ioc = nullptr;
  beast::tcp_stream* stream = nullptr;  // null once the session ended
  bool idle = true;
  // False until the first byte of the first request: Drain() gives such a connection (the
  // client has just connected and is about to send) kFreshGrace before closing it, so a worker
  // that stops accepting (recycling, rolling restart) does not drop a request it accepted.
  bool started = false;
  std::chrono::steady_clock::time_point accepted_at = std::chrono::steady_clock::now();
};

constexpr auto kFreshGrace = std::chrono::seconds(1);

template <class Body>
void CommonHeaders(bhttp::response<Body>& res, bool keep_alive) {
  res.set(bhttp::field::date, CachedDate());
  res.set(bhttp::field::server, "ephpm");
  res.keep_alive(keep_alive);
}

// Splits PHP's "Name: value" lines into the response, dropping framing headers we own.
template <class Fields>
void ApplyPhpHeaders(Fields& fields, const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string_view name(line.data(), colon);
    std::string_view value(line.data() + colon + 1, line.size() - colon - 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (!IsToken(name) || value.find_first_of("\r\n") != std::string_view::npos) continue;
    if (IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
        IEquals(name, "connection") || IEquals(name, "keep-alive") || IEquals(name, "date")) {
      continue;
    }
    fields.insert(beast::string_view(name.data(), name.size()),
                  beast::string_view(value.data(), value.size()));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

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

  // Accept balancing between worker processes that share the listening socket (BalanceAccepts):
  // `load` counts PHP requests in flight (queued, running or being written) plus accepted
  // connections whose first request is not answered yet. While it is non-zero and another
  // worker reports itself idle, the accept loop waits (re-checking every balance_poll) so that
  // the idle worker takes the next connection.
  std::chrono::microseconds balance_poll{0};  // 0 = off
  Server::Balance balance;
  std::atomic<int> load{0};
  std::unique_ptr<asio::steady_timer> gate;  // on iocs[0], cancelled when load drops to 0

  void LoadUp() {
    if (balance_poll.count() == 0) return;
    if (load.fetch_add(1, std::memory_order_acq_rel) == 0) {
      balance.busy_changed(true);
      asio::post(*iocs[0], [this] { Watch(); });
    }
  }
  // On iocs[0]: while the accept loop is parked in async_accept and this server is busy, check
  // every balance_poll whether another worker became idle; if so, cancel the accept so the loop
  // waits in its gate instead of competing for the next connection.
  bool parked = false;    // iocs[0] only
  bool watching = false;  // iocs[0] only
  std::unique_ptr<asio::steady_timer> watch;
  void Watch() {
    if (watching || !parked || !watch) return;
    watching = true;
    watch->expires_after(balance_poll);
    watch->async_wait([this](beast::error_code ec) {
      watching = false;
      if (ec || !parked || stopping) return;
      if (load.load(std::memory_order_acquire) == 0) return;
      if (balance.others_idle()) {
        beast::error_code ignored;
        acceptor->cancel(ignored);
        return;
      }
      Watch();
    });
  }
  void LoadDown() {
    if (balance_poll.count() == 0) return;
    if (load.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      balance.busy_changed(false);
      asio::post(*iocs[0], [this] {
        if (gate) gate->cancel();
      });
    }
  }

  std::mutex sessions_mu;
  std::set<std::shared_ptr<SessionCtl>> sessions;
  std::mutex drained_mu;
  std::condition_variable drained_cv;

  std::chrono::steady_clock::duration Secs(double s) const {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(s));
  }

  awaitable<void> Accept() {
    for (;;) {
      beast::error_code ec;
      if (balance_poll.count() > 0) {
        while (load.load(std::memory_order_acquire) > 0 && balance.others_idle()) {
          gate->expires_after(balance_poll);
          co_await gate->async_wait(redirect_error(use_awaitable, ec));
          if (stopping || !acceptor->is_open()) co_return;
        }
      }
      asio::io_context& target = *iocs[next_ioc++ % iocs.size()];
      parked = true;
      if (load.load(std::memory_order_acquire) > 0) Watch();
      tcp::socket socket = co_await acceptor->async_accept(target, redirect_error(use_awaitable, ec));
      parked = false;
      if (ec) {
        if (stopping || !acceptor->is_open()) co_return;
        if (ec == asio::error::operation_aborted) {
          if (balance_poll.count() > 0) continue;  // Watch(): leave the next one to an idle worker
          co_return;
        }
        if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
          spdlog::warn("accept: {} (pausing 100 ms)", ec.message());
          asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
          co_await t.async_wait(redirect_error(use_awaitable, ec));
        }
        continue;
      }
      LoadUp();  // until the connection's first request is answered
      // Counted from here, not when the session starts on its thread, so that Drain() cannot
      // see zero connections while an accepted one is on its way to its I/O thread.
      owner->active_++;
      asio::co_spawn(target, Session(std::move(socket), &target), asio::detached);
    }
  }

  template <class Res>
  awaitable<bool> Write(beast::tcp_stream& stream, Res& res) {
    beast::error_code ec;
    stream.expires_after(Secs(cfg.server.request_timeout));
    co_await bhttp::async_write(stream, res, redirect_error(use_awaitable, ec));
    co_return !ec;
  }

  awaitable<bool> SendError(beast::tcp_stream& stream, int status, unsigned version,
                            bool keep_alive, bool head, const std::string& allow = "") {
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

  void Log(const tcp::endpoint& remote, const std::string& method, beast::string_view target,
           unsigned version, int status, uint64_t bytes,
           std::chrono::steady_clock::time_point start) {
    if (!access_log->enabled()) return;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    char when[64];
    time_t now = time(nullptr);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
    std::string line = remote.address().to_string() + " - - [" + when + "] \"" + method + " " +
                       std::string(target) + " HTTP/" + std::to_string(version / 10) + "." +
                       std::to_string(version % 10) + "\" " + std::to_string(status) + " " +
                       std::to_string(bytes) + " " + std::to_string(us) + "\n";
    access_log->Write(line);
  }

  awaitable<void> Session(tcp::socket socket, asio::io_context* ioc) {
    auto ctl = std::make_shared<SessionCtl>();
    ctl->ioc = ioc;
    {
      std::lock_guard<std::mutex> lock(sessions_mu);
      sessions.insert(ctl);
    }
    try {
      co_await RunSession(std::move(socket), ctl.get());
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

  awaitable<void> RunSession(tcp::socket socket, SessionCtl* ctl) {
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    tcp::endpoint remote = socket.remote_endpoint(ec);
    tcp::endpoint local = socket.local_endpoint(ec);
    beast::tcp_stream stream(std::move(socket));
    ctl->stream = &stream;
    beast::flat_buffer buffer;
    const config::ServerConfig& sc = cfg.server;
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
      // Wait for the first byte of the next request (idle keep-alive timeout).
      ctl->idle = true;
      if (stopping) break;
      if (buffer.size() == 0) {
        stream.expires_after(Secs(sc.idle_timeout));
        size_t n = co_await stream.async_read_some(buffer.prepare(16 * 1024),
                                                   redirect_error(use_awaitable, ec));
        if (ec) break;
        buffer.commit(n);
      }
      ctl->idle = false;
      ctl->started = true;
      auto start = std::chrono::steady_clock::now();

      bhttp::request_parser<bhttp::string_body> parser;
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
        break;
      }
      auto& req = parser.get();
      unsigned version = req.version();
      std::string method(req.method_string());
      bool head = req.method() == bhttp::verb::head;
      if (version != 10 && version != 11) {
        co_await SendError(stream, 505, 11, false, head);
        break;
      }
      bool keep_alive = req.keep_alive() && !stopping;
      if (version == 11 && req.count(bhttp::field::host) != 1) {
        co_await SendError(stream, 400, version, false, head);
        break;
      }
      if (parser.content_length() && *parser.content_length() > sc.max_body_size) {
        co_await SendError(stream, 413, version, false, head);
        break;
      }
      if (!parser.is_done()) {
        auto expect = req[bhttp::field::expect];
        if (!expect.empty()) {
          if (!IEquals(std::string_view(expect.data(), expect.size()), "100-continue")) {
            co_await SendError(stream, 417, version, false, head);
            break;
          }
          if (version == 11) {
            static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
            stream.expires_after(Secs(sc.request_timeout));
            co_await asio::async_write(stream, asio::buffer(kContinue, sizeof kContinue - 1),
                                       redirect_error(use_awaitable, ec));
            if (ec) break;
          }
        }
        stream.expires_after(Secs(sc.request_timeout));
        co_await bhttp::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
        if (ec) {
          if (ec == bhttp::error::body_limit) {
            co_await SendError(stream, 413, version, false, head);
          } else if (ec == beast::error::timeout) {
            co_await SendError(stream, 408, version, false, head);
          } else if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
                     ec != asio::error::connection_reset) {
            co_await SendError(stream, 400, version, false, head);
          }
          break;
        }
      }

      Target target;
      std::string why;
      int status = 0;
      uint64_t bytes = 0;
      bool ok = true;
      if (!ParseTarget(std::string_view(req.target().data(), req.target().size()), &target,
                       &why)) {
        status = 400;
        ok = co_await SendError(stream, 400, version, keep_alive, head);
      } else {
        Route route = router->Resolve(method, target);
        switch (route.kind) {
          case RouteKind::kError:
            status = route.status;
            ok = co_await SendError(stream, route.status, version, keep_alive, head,
                                    route.status == 405 ? "GET, HEAD" : "");
            break;
          case RouteKind::kRedirect: {
            bhttp::response<bhttp::string_body> res{bhttp::status::permanent_redirect, version};
            CommonHeaders(res, keep_alive);
            res.set(bhttp::field::location, route.location);
            res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
            res.body() = "308 Permanent Redirect\n";
            res.prepare_payload();
            if (head) res.body().clear();
            status = 308;
            ok = co_await Write(stream, res);
            break;
          }
          case RouteKind::kStatic:
            ok = co_await ServeStatic(stream, req, route, version, keep_alive, head, &status,
                                      &bytes);
            break;
          case RouteKind::kPhp:
          {
            struct PhpLoad {
              Impl* impl;
              ~PhpLoad() { impl->LoadDown(); }
            } php_load{this};
            LoadUp();
            ok = co_await RunPhp(stream, parser, target, route, local, remote, ctl, version,
                                 keep_alive, head, &status, &bytes);
            break;
          }
        }
      }
      fresh.Done();
      Log(remote, method, req.target(), version, status, bytes, start);
      if (!ok || !keep_alive) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.close();
  }

  awaitable<bool> ServeStatic(beast::tcp_stream& stream,
                              bhttp::request<bhttp::string_body>& req, const Route& route,
                              unsigned version, bool& keep_alive, bool head, int* status,
                              uint64_t* bytes) {
    int fd = ::open(route.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      if (fd >= 0) ::close(fd);
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
    StaticDecision d = DecideStatic(sr, static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec,
                                    st.st_mtim.tv_nsec);
    bhttp::response<FileRangeBody> res{static_cast<bhttp::status>(d.status), version};
    CommonHeaders(res, keep_alive);
    res.set(bhttp::field::etag, d.etag);
    res.set(bhttp::field::last_modified, d.last_modified);
    *status = d.status;
    if (d.status == 304) {
      ::close(fd);
      co_return co_await Write(stream, res);
    }
    res.set(bhttp::field::accept_ranges, "bytes");
    if (d.status == 416) {
      ::close(fd);
      res.set(bhttp::field::content_range, d.content_range);
      res.content_length(0);
      co_return co_await Write(stream, res);
    }
    res.set(bhttp::field::content_type, mime->Lookup(route.file));
    if (d.status == 206) res.set(bhttp::field::content_range, d.content_range);
    res.content_length(d.length);
    if (head) {
      ::close(fd);
    } else {
      res.body().fd = fd;
      res.body().offset = d.offset;
      res.body().size = d.length;
      *bytes = d.length;
    }
    co_return co_await Write(stream, res);
  }

  awaitable<bool> RunPhp(beast::tcp_stream& stream,
                         bhttp::request_parser<bhttp::string_body>& parser, const Target& target,
                         const Route& route, const tcp::endpoint& local,
                         const tcp::endpoint& remote, SessionCtl* ctl, unsigned version,
                         bool& keep_alive, bool head, int* status, uint64_t* bytes) {
    auto& req = parser.get();
    auto job = std::make_unique<PhpJob>();
    php::RequestInfo& info = job->info;
    info.method = std::string(req.method_string());
    info.request_uri = std::string(req.target());
    info.query_string = target.query;
    info.protocol = version == 10 ? "HTTP/1.0" : "HTTP/1.1";
    info.proto_num = version == 10 ? 1000 : 1001;
    info.script_filename = route.file;
    info.script_name = route.script_name;
    info.path_info = route.path_info;
    info.document_root = router->DocumentRoot();
    info.server_addr = local.address().to_string();
    info.remote_addr = remote.address().to_string();
    info.remote_port = std::to_string(remote.port());
    std::string local_port = std::to_string(local.port());
    auto host_it = req.find(bhttp::field::host);
    std::string host = host_it == req.end() ? "" : std::string(host_it->value());
    if (host.empty()) {
      info.server_name = local.address().is_v6() ? "[" + info.server_addr + "]" : info.server_addr;
      info.server_port = local_port;
    } else {
      size_t colon = host.rfind(':');
      size_t bracket = host.rfind(']');
      if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
        info.server_name = host.substr(0, colon);
        info.server_port = host.substr(colon + 1);
        if (info.server_port.empty()) info.server_port = local_port;
      } else {
        info.server_name = host;
        info.server_port = local_port;
      }
    }
    for (const auto& f : req) {
      info.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    info.has_body = parser.chunked() || parser.content_length().has_value();
    info.body = std::move(req.body());
    info.request_time = std::chrono::duration<double>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();

    auto exchange = std::make_shared<PhpExchange>(*ctl->ioc);
    job->writer = exchange;
    if (!queue->TryPush(std::move(job))) {
      *status = 503;
      co_return co_await SendError(stream, 503, version, keep_alive, head);
    }

    bool ok = true;            // the connection is still usable
    bool stream_started = false;
    bool chunked = version == 11;
    for (;;) {
      PhpExchange::Events e = exchange->Take();
      if (!e.any()) {
        beast::error_code ec;
        co_await exchange->signal().async_wait(redirect_error(use_awaitable, ec));
        continue;
      }
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
        ok = co_await Write(stream, res);
        if (!ok) exchange->MarkGone();
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
        stream.expires_after(Secs(cfg.server.request_timeout));
        co_await bhttp::async_write_header(stream, sr, redirect_error(use_awaitable, ec));
        stream_started = true;
        if (ec) {
          ok = false;
          exchange->MarkGone();
        }
      }
      if (!e.data.empty() && ok && !head) {
        *bytes += e.data.size();
        beast::error_code ec;
        stream.expires_after(Secs(cfg.server.request_timeout));
        if (chunked) {
          co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(e.data)),
                                     redirect_error(use_awaitable, ec));
        } else {
          co_await asio::async_write(stream, asio::buffer(e.data),
                                     redirect_error(use_awaitable, ec));
        }
        if (ec) {
          ok = false;
          exchange->MarkGone();
        }
      }
      if (e.finished) {
        if (!e.ok) {
          ok = false;  // truncated: close without the last chunk
        } else if (ok && stream_started && chunked && !head) {
          beast::error_code ec;
          stream.expires_after(Secs(cfg.server.request_timeout));
          co_await asio::async_write(stream, bhttp::make_chunk_last(),
                                     redirect_error(use_awaitable, ec));
          if (ec) ok = false;
        }
        break;
      }
    }
    co_return ok;
  }
};

Server::Server(const config::Config& config, Router* router, const MimeTypes* mime,
               JobQueue* queue, AccessLog* access_log)
    : impl_(std::make_unique<Impl>(this, config, router, mime, queue, access_log)) {}

Server::~Server() { Stop(); }

void Server::Start(int listen_fd) {
  int n = impl_->cfg.server.io_threads;
  if (n <= 0) n = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  for (int i = 0; i < n; ++i) {
    impl_->iocs.push_back(std::make_unique<asio::io_context>(1));
    impl_->guards.push_back(asio::make_work_guard(*impl_->iocs.back()));
  }
  impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->iocs[0]);
  if (impl_->balance_poll.count() > 0) {
    impl_->gate = std::make_unique<asio::steady_timer>(*impl_->iocs[0]);
    impl_->watch = std::make_unique<asio::steady_timer>(*impl_->iocs[0]);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
  impl_->acceptor->assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listen_fd);
  asio::co_spawn(*impl_->iocs[0], impl_->Accept(), asio::detached);
  for (int i = 0; i < n; ++i) {
    asio::io_context* ioc = impl_->iocs[i].get();
    impl_->threads.emplace_back([ioc, i] {
      std::string name = "ephpm-io-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("I/O thread: {}", e.what());
        }
      }
    });
  }
}

void Server::BalanceAccepts(Balance balance, std::chrono::microseconds poll) {
  impl_->balance = std::move(balance);
  impl_->balance_poll = poll;
}

void Server::StopAccepting() {
  impl_->stopping = true;
  if (impl_->iocs.empty()) return;
  std::promise<void> done;
  asio::post(*impl_->iocs[0], [this, &done] {
    beast::error_code ec;
    if (impl_->gate) impl_->gate->cancel();
    if (impl_->watch) impl_->watch->cancel();
    if (impl_->acceptor) impl_->acceptor->close(ec);
    done.set_value();
  });
  done.get_future().wait();
}

bool Server::Drain(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(impl_->sessions_mu);
      for (const auto& ctl : impl_->sessions) {
        asio::post(*ctl->ioc, [ctl] {
          if (ctl->stream != nullptr && ctl->idle &&
              (ctl->started || std::chrono::steady_clock::now() - ctl->accepted_at > kFreshGrace)) {
            ctl->stream->cancel();
          }
        });
      }
    }
    std::unique_lock<std::mutex> lock(impl_->drained_mu);
    if (impl_->drained_cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                                   std::chrono::milliseconds(200)),
                                     [&] { return active_.load() == 0; })) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return active_.load() == 0;
  }
}

void Server::Stop() {
  if (impl_->threads.empty()) return;
  impl_->stopping = true;
  impl_->guards.clear();
  for (auto& ioc : impl_->iocs) ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace ephpm::http
