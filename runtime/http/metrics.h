// The server's counters and gauges, kept where a worker's death loses none of them.
//
// Every process that serves HTTP writes into one slot of a MetricsRegion: an anonymous MAP_SHARED
// mapping the master creates before its first fork, so the master reads what every worker
// writes and a worker killed with SIGKILL leaves its counts behind. Not in the store's arena:
// that arena's layout is versioned and validated by `ephpm php`/`ephpm kv`, and counters of the
// HTTP side are none of the store's business.
//
// Slots belong to processes, not to worker indexes: during a rolling restart a worker index has
// two processes (the old one draining, its replacement booting), each counting on its own. The
// master hands a free slot to every fork (Acquire) and, when it reaps the process, adds the
// slot's counters to its own totals and frees the slot (Release). The master is single-threaded
// and answers scrapes in the same poll() loop, so a scrape never sees a count twice or not at
// all: totals + live slots only grow.
//
// Cost per request (the hook where a request has been answered, session.cc): a handful of
// relaxed atomic adds on the process's own cache lines (one slot is a few cache lines, aligned
// so two processes never share a line). Several I/O threads of one worker add to the same slot,
// hence atomic read-modify-writes, not plain stores. Gauges that change per connection or per
// queued job (open connections, queue depth) are sampled by the worker's control thread every
// 200 ms instead of being kept exact on the hot path.
//
// With worker processes the counters always run, with or without [metrics]: the master's log line
// for a worker's exit names the number of requests it answered, read from its slot. The
// single-process mode has no master to read them and counts only when [metrics] is configured.
#ifndef EPHPM_RUNTIME_HTTP_METRICS_H_
#define EPHPM_RUNTIME_HTTP_METRICS_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ephpm::http::metrics {

// How a request was answered: by PHP, as a static file, or by the server itself (redirects,
// errors found while routing: 400, 403, 404 without fallback, 405).
enum Route : int { kRoutePhp = 0, kRouteStatic = 1, kRouteOther = 2, kRoutes = 3 };
const char* RouteName(int route);

// Status classes 1xx..5xx are indexes 0..4.
inline constexpr int kCodeClasses = 5;

// Upper bounds of the request duration histogram, in microseconds (the last bucket, +Inf, is
// implicit). Prometheus's default buckets from 1 ms, so they work with its own recording rules.
inline constexpr uint64_t kDurationBoundsMicros[] = {1000,   2500,    5000,    10000,  25000,
                                                     50000,  100000,  250000,  500000, 1000000,
                                                     2500000, 5000000, 10000000};
inline constexpr int kDurationBounds = sizeof kDurationBoundsMicros / sizeof(uint64_t);
inline constexpr int kDurationBuckets = kDurationBounds + 1;  // with +Inf
int DurationBucket(uint64_t micros);

// Requests refused with 503 + Retry-After because the server was full.
enum Rejection : int { kRejectQueueFull = 0, kRejectBodyMemory = 1, kRejections = 2 };
const char* RejectionName(int reason);

// Why the master started a worker again.
enum RestartReason : int {
  kRestartExit = 0,         // exited with a non-zero code (not the watchdog's)
  kRestartSignal = 1,       // killed by a signal (segfault, kill -9, the OOM killer)
  kRestartWatchdog = 2,     // exit code 70: PHP did not return after a timeout, or a suspect interpreter
  kRestartMaxRequests = 3,  // recycled after [php] max_requests
  kRestartCrashLoop = 4,    // died quickly too often: respawned after a back-off delay
  kRestartRolling = 5,      // replaced by a rolling restart (SIGHUP)
  kRestartReasons = 6,
};
const char* RestartReasonName(int reason);
// The reason for a worker that ended with waitpid() status `status` and was not told to stop.
// crash_loop: its respawn is being delayed by the crash-loop back-off.
RestartReason ClassifyExit(int status, bool crash_loop);
// Exit code of a worker that gave up on its PHP thread (runtime/php/request_sapi.cc).
inline constexpr int kWatchdogExitCode = 70;

// The counters of one process (or, as plain numbers, of all processes: Totals).
template <class T>
struct CounterSet {
  T requests[kRoutes][kCodeClasses];
  T duration_buckets[kRoutes][kDurationBuckets];  // not cumulative; the exposition sums them
  T duration_micros[kRoutes];
  T rejected[kRejections];
};
using Totals = CounterSet<uint64_t>;

// One process's slot. Zero-filled = free and empty.
struct alignas(64) WorkerSlot {
  CounterSet<std::atomic<uint64_t>> counters;
  alignas(64) std::atomic<int64_t> in_flight;      // requests read and not yet answered
  std::atomic<int64_t> php_in_flight;              // PHP requests queued, running or being sent
  std::atomic<int64_t> queue_depth;                // sampled: jobs waiting for the PHP thread
  std::atomic<int64_t> connections;                // sampled: open client connections
  std::atomic<uint64_t> php_memory_bytes;          // Zend memory in use when the last request ended
  std::atomic<uint64_t> php_peak_memory_bytes;     // Zend memory peak of the last request
  std::atomic<uint32_t> accepting;                 // 1 between on_ready and the drain
  std::atomic<uint32_t> booted;                    // worker mode: the worker script has booted
  std::atomic<int32_t> pid;                        // the owner, 0 = free
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "counters are shared between processes");

// The shared slots. Created once (before any fork) and never unmapped.
class MetricsRegion {
 public:
  // nullptr (and errno) when mmap fails.
  static MetricsRegion* Create(int slots);

  int slots() const { return slots_; }
  WorkerSlot& slot(int i) { return slots_base_[i]; }

  // Master: a free slot for the process about to be forked, or -1 when all are taken (the
  // master makes room for every worker plus its replacement, so this does not happen).
  int Acquire();
  // Master, after waitpid(): adds the slot's counters to the totals, frees the slot and returns
  // the number of requests that process answered.
  uint64_t Release(int i);
  // The process's own slot (called in the forked child, or once in the single-process mode).
  void Attach(int i);

  // Master: totals of the processes gone plus every live slot's counters.
  void Sum(Totals* out) const;
  uint64_t restarts(int reason) const { return restarts_[reason]; }
  void CountRestart(RestartReason reason) { ++restarts_[reason]; }

 private:
  MetricsRegion() = default;
  WorkerSlot* slots_base_ = nullptr;
  int slots_ = 0;
  Totals gone_{};  // master-private: processes already reaped
  uint64_t restarts_[kRestartReasons] = {};
};

// Requests a process has answered so far (sum of its requests matrix).
uint64_t RequestsAnswered(const WorkerSlot& slot);

// --- the calling process's own slot (hooks on the request path; no-ops without a slot) --------

extern WorkerSlot* g_own;

inline void RequestStarted() {
  if (g_own) g_own->in_flight.fetch_add(1, std::memory_order_relaxed);
}
// A request answered with `status` after `micros`; balances RequestStarted().
void RequestFinished(int route, int status, uint64_t micros);
inline void PhpStarted() {
  if (g_own) g_own->php_in_flight.fetch_add(1, std::memory_order_relaxed);
}
inline void PhpFinished() {
  if (g_own) g_own->php_in_flight.fetch_sub(1, std::memory_order_relaxed);
}
inline void Rejected(Rejection reason) {
  if (g_own) g_own->counters.rejected[reason].fetch_add(1, std::memory_order_relaxed);
}
void PublishLoad(size_t connections, size_t queue_depth);
void PublishPhpMemory(uint64_t in_use, uint64_t peak);
void SetAccepting(bool accepting);
void SetBooted();

}  // namespace ephpm::http::metrics

#endif  // EPHPM_RUNTIME_HTTP_METRICS_H_
