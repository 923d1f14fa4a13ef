// MetricsRegion and the request-path hooks (metrics.h).
#include "runtime/http/metrics.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ephpm::http::metrics {

WorkerSlot* g_own = nullptr;

namespace {

template <class Fn>
void ForEachCounter(Fn&& fn) {
  for (int r = 0; r < kRoutes; ++r) {
    for (int c = 0; c < kCodeClasses; ++c) fn([r, c](auto& s) -> auto& { return s.requests[r][c]; });
    for (int b = 0; b < kDurationBuckets; ++b) {
      fn([r, b](auto& s) -> auto& { return s.duration_buckets[r][b]; });
    }
    fn([r](auto& s) -> auto& { return s.duration_micros[r]; });
  }
  for (int j = 0; j < kRejections; ++j) fn([j](auto& s) -> auto& { return s.rejected[j]; });
}

void AddSlot(const WorkerSlot& slot, Totals* out) {
  auto& from = const_cast<CounterSet<std::atomic<uint64_t>>&>(slot.counters);
  ForEachCounter([&](auto field) {
    field(*out) += field(from).load(std::memory_order_relaxed);
  });
}

}  // namespace

const char* RouteName(int route) {
  static const char* kNames[] = {"php", "static", "other"};
  return route >= 0 && route < kRoutes ? kNames[route] : "?";
}

const char* RejectionName(int reason) {
  static const char* kNames[] = {"queue_full", "body_memory"};
  return reason >= 0 && reason < kRejections ? kNames[reason] : "?";
}

const char* RestartReasonName(int reason) {
  static const char* kNames[] = {"exit", "signal", "watchdog", "max_requests", "crash_loop",
                                 "rolling"};
  return reason >= 0 && reason < kRestartReasons ? kNames[reason] : "?";
}

RestartReason ClassifyExit(int status, bool crash_loop) {
  if (crash_loop) return kRestartCrashLoop;
  if (WIFSIGNALED(status)) return kRestartSignal;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return kRestartMaxRequests;
  if (WIFEXITED(status) && WEXITSTATUS(status) == kWatchdogExitCode) return kRestartWatchdog;
  return kRestartExit;
}

int DurationBucket(uint64_t micros) {
  int b = 0;
  while (b < kDurationBounds && micros > kDurationBoundsMicros[b]) ++b;
  return b;
}

MetricsRegion* MetricsRegion::Create(int slots) {
  size_t bytes = sizeof(WorkerSlot) * static_cast<size_t>(slots);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto* region = new MetricsRegion();  // lives as long as the process
  region->slots_base_ = static_cast<WorkerSlot*>(p);  // zero-filled: every slot free
  region->slots_ = slots;
  return region;
}

int MetricsRegion::Acquire() {
  for (int i = 0; i < slots_; ++i) {
    if (slots_base_[i].pid.load(std::memory_order_relaxed) == 0) {
      slots_base_[i].pid.store(-1, std::memory_order_relaxed);  // taken; the child sets its pid
      return i;
    }
  }
  return -1;
}

uint64_t MetricsRegion::Release(int i) {
  WorkerSlot& s = slots_base_[i];
  uint64_t answered = RequestsAnswered(s);
  AddSlot(s, &gone_);
  memset(static_cast<void*>(&s), 0, sizeof s);  // its process is gone: nobody writes it now
  return answered;
}

void MetricsRegion::Attach(int i) {
  g_own = &slots_base_[i];
  g_own->pid.store(static_cast<int32_t>(getpid()), std::memory_order_relaxed);
}

void MetricsRegion::Sum(Totals* out) const {
  *out = gone_;
  for (int i = 0; i < slots_; ++i) {
    if (slots_base_[i].pid.load(std::memory_order_relaxed) != 0) AddSlot(slots_base_[i], out);
  }
}

uint64_t RequestsAnswered(const WorkerSlot& slot) {
  uint64_t n = 0;
  for (int r = 0; r < kRoutes; ++r) {
    for (int c = 0; c < kCodeClasses; ++c) {
      n += slot.counters.requests[r][c].load(std::memory_order_relaxed);
    }
  }
  return n;
}

void RequestFinished(int route, int status, uint64_t micros) {
  WorkerSlot* s = g_own;
  if (s == nullptr) return;
  s->in_flight.fetch_sub(1, std::memory_order_relaxed);
  // status 0: the connection ended before any response (the client went away, or a write
  // failed before the status line): not an answered request.
  if (status < 100 || status > 599) return;
  CounterSet<std::atomic<uint64_t>>& c = s->counters;
  c.requests[route][status / 100 - 1].fetch_add(1, std::memory_order_relaxed);
  c.duration_buckets[route][DurationBucket(micros)].fetch_add(1, std::memory_order_relaxed);
  c.duration_micros[route].fetch_add(micros, std::memory_order_relaxed);
}

void PublishLoad(size_t connections, size_t queue_depth) {
  if (g_own == nullptr) return;
  g_own->connections.store(static_cast<int64_t>(connections), std::memory_order_relaxed);
  g_own->queue_depth.store(static_cast<int64_t>(queue_depth), std::memory_order_relaxed);
}

void PublishPhpMemory(uint64_t in_use, uint64_t peak) {
  if (g_own == nullptr) return;
  g_own->php_memory_bytes.store(in_use, std::memory_order_relaxed);
  g_own->php_peak_memory_bytes.store(peak, std::memory_order_relaxed);
}

void SetAccepting(bool accepting) {
  if (g_own) g_own->accepting.store(accepting ? 1 : 0, std::memory_order_relaxed);
}

void SetBooted() {
  if (g_own) g_own->booted.store(1, std::memory_order_relaxed);
}

}  // namespace ephpm::http::metrics
