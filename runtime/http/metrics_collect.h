// Building a MetricsSnapshot (metrics_format.h) from the live server and answering the metrics
// listener's paths with it. Shared by the master (supervisor.cc), which adds its workers and
// restart counts, and the single-process mode (serve_main.cc), whose one worker is itself.
#ifndef EPHPM_RUNTIME_HTTP_METRICS_COLLECT_H_
#define EPHPM_RUNTIME_HTTP_METRICS_COLLECT_H_

#include <sys/types.h>

#include <memory>
#include <string_view>

#include "runtime/config/config.h"
#include "runtime/http/metrics.h"
#include "runtime/http/metrics_format.h"
#include "runtime/http/metrics_server.h"

namespace ephpm::kv {
class Store;
}

namespace ephpm::http::metrics {

// Resident memory of a process from /proc/<pid>/statm (0 when it is gone).
uint64_t ResidentBytes(pid_t pid);

// Totals, the gauges summed over every live slot, the store, this process's memory, the start
// time and what the configuration says. The caller adds `workers`, `workers_starting`,
// `stopping` and the restart counts.
void CollectCommon(const MetricsRegion& region, kv::Store* store, const config::Config& cfg,
                   MetricsSnapshot* s);

// The view of a worker from its slot.
WorkerView ViewOf(const WorkerSlot& slot, int index, pid_t pid);

// /metrics, /_ephpm/health, /_ephpm/ready (503 when not ready), anything else 404.
MetricsResponse Respond(std::string_view path, const MetricsSnapshot& s);

// Single-process mode (no master): gives this process a counter slot of its own and serves the
// metrics listener `fd` on a thread (call with the signals blocked, as for every helper thread).
std::unique_ptr<MetricsServer> StartInProcess(int fd, kv::Store* store, const config::Config& cfg);

// Records the server's start (for process_start_time_seconds and the uptime in /_ephpm/health).
void MarkStart();

}  // namespace ephpm::http::metrics

#endif  // EPHPM_RUNTIME_HTTP_METRICS_COLLECT_H_
