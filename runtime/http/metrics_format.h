// What the metrics listener answers: the Prometheus text exposition (format 0.0.4) and the
// health and readiness JSON, built from a MetricsSnapshot of plain numbers. No sockets and no
// shared memory here, so the formatting and the readiness rule are unit-tested
// (runtime/tests/http/metrics_test.cc).
//
// Naming follows Prometheus's conventions: an `ephpm_` prefix, base units (`_seconds`,
// `_bytes`), `_total` for counters, labels for the dimensions that are summed over (status class,
// route, reason), one label `worker` (the worker index, stable across restarts, not the pid) for
// per-worker gauges. The process's own memory uses the standard `process_resident_memory_bytes`.
#ifndef EPHPM_RUNTIME_HTTP_METRICS_FORMAT_H_
#define EPHPM_RUNTIME_HTTP_METRICS_FORMAT_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/http/metrics.h"
#include "runtime/kv/options.h"

namespace ephpm::http::metrics {

struct WorkerView {
  int index = 0;  // [php] workers slot, 0-based
  pid_t pid = 0;
  bool accepting = false;
  bool booted = false;  // worker mode: the worker script booted at least once
  bool busy = false;    // PHP requests in flight
  int64_t queue_depth = 0;
  uint64_t php_memory_bytes = 0;
  uint64_t php_peak_memory_bytes = 0;
  uint64_t resident_bytes = 0;  // RSS (shared pages of OPcache and the store count in each)
};

struct MetricsSnapshot {
  Totals totals{};
  uint64_t restarts[kRestartReasons] = {};
  int64_t in_flight = 0;
  int64_t php_in_flight = 0;
  int64_t queue_depth = 0;
  int64_t connections = 0;
  int workers_configured = 0;
  int workers_starting = 0;  // replacements of a rolling restart, not accepting yet
  std::vector<WorkerView> workers;  // the current worker of each index that has one
  kv::Stats store{};
  uint64_t store_watch_slots = 0;
  uint64_t resident_bytes = 0;       // the process that answers (the master)
  double start_time_seconds = 0;     // Unix time the server started
  bool stopping = false;             // a drain or stop has begun
  bool worker_mode = false;          // [php] mode = "worker"
  int64_t queue_capacity = 0;        // [server] php_queue_size, per worker
};

// The text exposition of `s`.
std::string FormatPrometheus(const MetricsSnapshot& s);

// Readiness: at least one worker accepts (in worker mode: one whose script has booted), the
// server is not stopping, and not every accepting worker's queue is full. `reason` says why not.
bool IsReady(const MetricsSnapshot& s, std::string* reason);

// The JSON bodies of /_ephpm/health and /_ephpm/ready.
std::string HealthJson(const MetricsSnapshot& s, pid_t pid, double uptime_seconds);
std::string ReadyJson(const MetricsSnapshot& s, bool ready, const std::string& reason);

}  // namespace ephpm::http::metrics

#endif  // EPHPM_RUNTIME_HTTP_METRICS_FORMAT_H_
