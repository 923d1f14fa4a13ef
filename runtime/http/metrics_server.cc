// MetricsServer (metrics_server.h): a poll()-driven responder, one request per connection.
#include "runtime/http/metrics_server.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/http/response_headers.h"

namespace ephpm::http {
namespace {

using Clock = std::chrono::steady_clock;

MetricsResponse Plain(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

MetricsServer::MetricsServer(int listen_fd, Handler handler)
    : listen_fd_(listen_fd), handler_(std::move(handler)) {
  fcntl(listen_fd_, F_SETFL, fcntl(listen_fd_, F_GETFL) | O_NONBLOCK);
}

MetricsServer::~MetricsServer() {
  Stop();
  for (Conn& c : conns_) close(c.fd);
  if (listen_fd_ >= 0) close(listen_fd_);
}

int MetricsServer::AddPollFds(std::vector<pollfd>* fds) {
  if (static_cast<int>(conns_.size()) < kMaxConnections) fds->push_back({listen_fd_, POLLIN, 0});
  int timeout = -1;
  auto now = Clock::now();
  for (const Conn& c : conns_) {
    fds->push_back({c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - now).count();
    int left = static_cast<int>(std::max<int64_t>(0, ms) + 1);
    timeout = timeout < 0 ? left : std::min(timeout, left);
  }
  return timeout;
}

void MetricsServer::OnPoll(const std::vector<pollfd>& fds, size_t first) {
  bool accept = false;
  size_t i = first;
  if (i < fds.size() && fds[i].fd == listen_fd_) {
    accept = fds[i].revents != 0;
    ++i;
  }
  // The connections appear in conns_'s order; one that finished is removed as we go.
  std::vector<Conn> kept;
  kept.reserve(conns_.size());
  for (Conn& c : conns_) {
    short revents = 0;
    if (i < fds.size() && fds[i].fd == c.fd) revents = fds[i++].revents;
    if (Step(c, revents)) kept.push_back(std::move(c));
  }
  conns_ = std::move(kept);
  if (accept) AcceptAll();
}

void MetricsServer::AcceptAll() {
  while (static_cast<int>(conns_.size()) < kMaxConnections) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error of that one connection (ECONNABORTED, ...)
    Conn c;
    c.fd = fd;
    c.deadline = Clock::now() + kConnectionTimeout;
    conns_.push_back(std::move(c));
  }
}

bool MetricsServer::Step(Conn& c, short revents) {
  bool finished = false;
  if (c.out.empty() && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    char buf[2048];
    ssize_t n = read(c.fd, buf, sizeof buf);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      size_t end = c.in.find("\r\n\r\n");
      if (end != std::string::npos) {
        bool head_only = false;
        MetricsResponse r = Answer(std::string_view(c.in).substr(0, end), handler_, &head_only);
        c.out = Serialize(r, head_only);
      } else if (c.in.size() > kMaxRequestHead) {
        c.out = Serialize(Plain(431, "431 Request Header Fields Too Large\n"), false);
      }
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      finished = true;
    }
  }
  if (!finished && !c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n > 0) c.sent += static_cast<size_t>(n);
    if (c.sent == c.out.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) finished = true;
  }
  if (!finished && Clock::now() >= c.deadline) finished = true;
  if (finished) {
    // The request head was read whole, so closing leaves no unread input (no reset).
    close(c.fd);
    c.fd = -1;
  }
  return !finished;
}

void MetricsServer::CloseFds() {
  for (Conn& c : conns_) close(c.fd);
  conns_.clear();
  close(listen_fd_);
  listen_fd_ = -1;
}

void MetricsServer::RunOnThread() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ephpm-metrics");
    std::vector<pollfd> fds;
    while (!stop_.load(std::memory_order_relaxed)) {
      fds.clear();
      int timeout = AddPollFds(&fds);
      constexpr int kStopCheckMs = 100;
      timeout = timeout < 0 ? kStopCheckMs : std::min(timeout, kStopCheckMs);
      if (poll(fds.data(), fds.size(), timeout) > 0 || !conns_.empty()) OnPoll(fds, 0);
    }
  });
}

void MetricsServer::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

MetricsResponse MetricsServer::Answer(std::string_view head, const Handler& handler,
                                      bool* head_only) {
  std::string_view line = head.substr(0, head.find("\r\n"));
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.substr(sp2 + 1).substr(0, 5) != "HTTP/") {
    return Plain(400, "400 Bad Request\n");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  *head_only = method == "HEAD";
  if (method != "GET" && !*head_only) return Plain(405, "405 Method Not Allowed\n");
  return handler(target);
}

std::string MetricsServer::Serialize(const MetricsResponse& r, bool head_only) {
  // ReasonFor() names the error statuses the server sends itself; 200 is the one it leaves out.
  const char* reason = r.status == 200 ? "OK" : ReasonFor(r.status);
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (r.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head_only) out += r.body;
  return out;
}

}  // namespace ephpm::http
