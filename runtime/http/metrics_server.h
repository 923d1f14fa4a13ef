// The `[metrics] listen` endpoint: GET /metrics, /_ephpm/health, /_ephpm/ready.
//
// Answered by the master, inside its poll() loop (supervisor.cc), not by a thread of its own:
// the master forks workers and must stay single-threaded to do so safely (a thread holding the
// allocator's or the logger's lock at the moment of a fork would leave that lock held forever
// in the child). So this is a small non-blocking HTTP/1.1 responder driven by the caller's
// poll(): one request per connection (`Connection: close`, what Prometheus and probes expect),
// at most kMaxConnections at once, each given kConnectionTimeout to send its request head
// (at most 8 KB) and take its answer. A scrape is answered from memory in microseconds, so it
// never holds up the master's supervision. In the single-process mode (no master) the same
// loop runs on a thread of its own (RunOnThread).
//
// Kept apart from the public listener on purpose: the metrics and readiness of a server are for
// its operator, not its visitors; nothing of them is reachable through `[server] listen`.
#ifndef EPHPM_RUNTIME_HTTP_METRICS_SERVER_H_
#define EPHPM_RUNTIME_HTTP_METRICS_SERVER_H_

#include <poll.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ephpm::http {

struct MetricsResponse {
  int status = 200;
  std::string content_type;
  std::string body;
};

class MetricsServer {
 public:
  // Builds the answer for a GET or HEAD of `path` (query string removed).
  using Handler = std::function<MetricsResponse(std::string_view path)>;

  // Takes ownership of the listening socket (made non-blocking).
  MetricsServer(int listen_fd, Handler handler);
  ~MetricsServer();

  // Appends the descriptors to poll: the listener (when a connection may be added) and every
  // open connection. Returns how long the poll may sleep before a connection times out, in ms
  // (-1 = no limit).
  int AddPollFds(std::vector<pollfd>* fds);
  // After poll(): handles the entries AddPollFds() appended, starting at fds[first].
  void OnPoll(const std::vector<pollfd>& fds, size_t first);
  // In a forked child: closes every descriptor without touching the connections' peers.
  void CloseFds();

  // Single-process mode: serves on a thread of its own until Stop().
  void RunOnThread();
  void Stop();

  // Parses a request head ("GET /path?x HTTP/1.1\r\n..."): the answer, or the status for a bad
  // request (400, 405 for a method other than GET/HEAD). Public for the unit tests.
  static MetricsResponse Answer(std::string_view head, const Handler& handler, bool* head_only);
  // The bytes sent for `r` (status line, headers, body unless head_only).
  static std::string Serialize(const MetricsResponse& r, bool head_only);

  static constexpr size_t kMaxRequestHead = 8 * 1024;
  static constexpr int kMaxConnections = 32;
  static constexpr auto kConnectionTimeout = std::chrono::seconds(5);

 private:
  struct Conn {
    int fd = -1;
    std::string in;
    std::string out;  // the answer, once the head is complete
    size_t sent = 0;
    std::chrono::steady_clock::time_point deadline;
  };
  void AcceptAll();
  // false: the connection is finished (answered, failed or timed out) and was closed.
  bool Step(Conn& c, short revents);

  int listen_fd_;
  Handler handler_;
  std::vector<Conn> conns_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_METRICS_SERVER_H_
