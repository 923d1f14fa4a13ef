// MetricsSnapshot collection and the listener's routes (metrics_collect.h).
#include "runtime/http/metrics_collect.h"

#include <stdio.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "runtime/kv/store.h"

namespace ephpm::http::metrics {
namespace {

std::chrono::steady_clock::time_point g_start_steady = std::chrono::steady_clock::now();
double g_start_unix = 0;

}  // namespace

void MarkStart() {
  g_start_steady = std::chrono::steady_clock::now();
  g_start_unix = std::chrono::duration<double>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
}

uint64_t ResidentBytes(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/statm";
  FILE* f = fopen(path.c_str(), "re");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int n = fscanf(f, "%llu %llu", &size, &resident);
  fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

void CollectCommon(const MetricsRegion& region, kv::Store* store, const config::Config& cfg,
                   MetricsSnapshot* s) {
  region.Sum(&s->totals);
  for (int i = 0; i < region.slots(); ++i) {
    const WorkerSlot& w = const_cast<MetricsRegion&>(region).slot(i);
    if (w.pid.load(std::memory_order_relaxed) == 0) continue;
    s->in_flight += w.in_flight.load(std::memory_order_relaxed);
    s->php_in_flight += w.php_in_flight.load(std::memory_order_relaxed);
    s->queue_depth += w.queue_depth.load(std::memory_order_relaxed);
    s->connections += w.connections.load(std::memory_order_relaxed);
  }
  for (int r = 0; r < kRestartReasons; ++r) s->restarts[r] = region.restarts(r);
  if (store != nullptr) {
    s->store = store->GetStats();
    s->store_watch_slots = store->WatchSlotCount();
  }
  s->resident_bytes = ResidentBytes(getpid());
  s->start_time_seconds = g_start_unix;
  s->worker_mode = cfg.php.mode == config::PhpMode::kWorker;
  s->queue_capacity = cfg.server.php_queue_size;
}

WorkerView ViewOf(const WorkerSlot& slot, int index, pid_t pid) {
  WorkerView v;
  v.index = index;
  v.pid = pid;
  v.accepting = slot.accepting.load(std::memory_order_relaxed) != 0;
  v.booted = slot.booted.load(std::memory_order_relaxed) != 0;
  v.busy = slot.php_in_flight.load(std::memory_order_relaxed) > 0;
  v.queue_depth = slot.queue_depth.load(std::memory_order_relaxed);
  v.php_memory_bytes = slot.php_memory_bytes.load(std::memory_order_relaxed);
  v.php_peak_memory_bytes = slot.php_peak_memory_bytes.load(std::memory_order_relaxed);
  v.resident_bytes = ResidentBytes(pid);
  return v;
}

MetricsResponse Respond(std::string_view path, const MetricsSnapshot& s) {
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", FormatPrometheus(s)};
  }
  if (path == "/_ephpm/health") {
    double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start_steady).count();
    return {200, "application/json", HealthJson(s, getpid(), uptime)};
  }
  if (path == "/_ephpm/ready") {
    std::string reason;
    bool ready = IsReady(s, &reason);
    return {ready ? 200 : 503, "application/json", ReadyJson(s, ready, reason)};
  }
  return {404, "text/plain; charset=utf-8",
          "404 Not Found (this listener serves /metrics, /_ephpm/health, /_ephpm/ready)\n"};
}

std::unique_ptr<MetricsServer> StartInProcess(int fd, kv::Store* store,
                                             const config::Config& cfg) {
  MetricsRegion* region = MetricsRegion::Create(1);
  if (region == nullptr) return nullptr;
  region->Attach(0);
  auto server = std::make_unique<MetricsServer>(fd, [region, store, &cfg](std::string_view path) {
    MetricsSnapshot s;
    CollectCommon(*region, store, cfg, &s);
    s.workers_configured = 1;
    s.workers.push_back(ViewOf(region->slot(0), 0, getpid()));
    return Respond(path, s);
  });
  server->RunOnThread();
  return server;
}

}  // namespace ephpm::http::metrics
