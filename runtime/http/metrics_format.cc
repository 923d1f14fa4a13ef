// The Prometheus exposition and the health/readiness JSON (metrics_format.h).
//
// Every label combination is written, zeros included, so a rate() over a series that has just
// seen its first event does not start from nothing (Prometheus's advice for known label values).
#include "runtime/http/metrics_format.h"

#include <fmt/format.h>

#include <iterator>

namespace ephpm::http::metrics {
namespace {

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void Family(const char* name, const char* type, const char* help) {
    fmt::format_to(std::back_inserter(*out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }
  template <class V>
  void Sample(const char* name, const std::string& labels, V value) {
    if (labels.empty()) {
      fmt::format_to(std::back_inserter(*out_), "{} {}\n", name, value);
    } else {
      fmt::format_to(std::back_inserter(*out_), "{}{{{}}} {}\n", name, labels, value);
    }
  }
  template <class V>
  void Single(const char* name, const char* type, const char* help, V value) {
    Family(name, type, help);
    Sample(name, "", value);
  }

 private:
  std::string* out_;
};

struct StateCounts {
  int accepting = 0, busy = 0, starting = 0;
};

StateCounts CountStates(const MetricsSnapshot& s) {
  StateCounts n;
  n.starting = s.workers_starting;
  for (const WorkerView& v : s.workers) {
    if (!v.accepting) {
      ++n.starting;
    } else {
      ++n.accepting;
      n.busy += v.busy ? 1 : 0;
    }
  }
  return n;
}

std::string Seconds(uint64_t micros) { return fmt::format("{:.6f}", micros / 1e6); }

std::string Le(int bucket) {
  if (bucket >= kDurationBounds) return "+Inf";
  return fmt::format("{}", kDurationBoundsMicros[bucket] / 1e6);
}

void HttpFamilies(Writer& w, const MetricsSnapshot& s) {
  const Totals& t = s.totals;
  w.Family("ephpm_http_requests_total", "counter",
           "HTTP requests answered, by status class and by who answered (php, static, other = "
           "the server itself: redirects, routing errors).");
  for (int r = 0; r < kRoutes; ++r) {
    for (int c = 0; c < kCodeClasses; ++c) {
      w.Sample("ephpm_http_requests_total",
               fmt::format("code=\"{}xx\",route=\"{}\"", c + 1, RouteName(r)), t.requests[r][c]);
    }
  }
  w.Family("ephpm_http_request_duration_seconds", "histogram",
           "Time from the first byte of a request to the end of its response.");
  for (int r = 0; r < kRoutes; ++r) {
    uint64_t cumulative = 0;
    for (int b = 0; b < kDurationBuckets; ++b) {
      cumulative += t.duration_buckets[r][b];
      w.Sample("ephpm_http_request_duration_seconds_bucket",
               fmt::format("route=\"{}\",le=\"{}\"", RouteName(r), Le(b)), cumulative);
    }
    std::string route = fmt::format("route=\"{}\"", RouteName(r));
    w.Sample("ephpm_http_request_duration_seconds_sum", route, Seconds(t.duration_micros[r]));
    w.Sample("ephpm_http_request_duration_seconds_count", route, cumulative);
  }
  w.Family("ephpm_http_rejected_requests_total", "counter",
           "Requests answered 503 + Retry-After because the server was full: a worker's PHP "
           "queue (php_queue_size) or its request-body memory (max_buffered_bodies).");
  for (int j = 0; j < kRejections; ++j) {
    w.Sample("ephpm_http_rejected_requests_total", fmt::format("reason=\"{}\"", RejectionName(j)),
             t.rejected[j]);
  }
  w.Single("ephpm_http_requests_in_flight", "gauge",
           "Requests read and not yet answered, all workers.", s.in_flight);
  w.Single("ephpm_http_connections", "gauge", "Open client connections, all workers.",
           s.connections);
  w.Single("ephpm_php_requests_in_flight", "gauge",
           "PHP requests queued, running or being sent, all workers.", s.php_in_flight);
  w.Single("ephpm_php_queue_depth", "gauge",
           "PHP requests waiting for a worker's PHP thread, all workers.", s.queue_depth);
}

void WorkerFamilies(Writer& w, const MetricsSnapshot& s) {
  StateCounts n = CountStates(s);
  w.Single("ephpm_workers_configured", "gauge", "Worker processes configured ([php] workers).",
           s.workers_configured);
  w.Family("ephpm_workers", "gauge",
           "Worker processes by state: busy (PHP work in flight), idle (accepting, no PHP "
           "work), starting (forked, not accepting: booting or draining).");
  w.Sample("ephpm_workers", "state=\"busy\"", n.busy);
  w.Sample("ephpm_workers", "state=\"idle\"", n.accepting - n.busy);
  w.Sample("ephpm_workers", "state=\"starting\"", n.starting);
  w.Family("ephpm_worker_restarts_total", "counter",
           "Worker processes (and the RESP process) started again, by reason: exit (non-zero "
           "exit code), signal "
           "(crash, kill), watchdog (exit 70: PHP stuck after a timeout), max_requests "
           "(recycled), crash_loop (respawn delayed by the back-off), rolling (SIGHUP).");
  for (int i = 0; i < kRestartReasons; ++i) {
    w.Sample("ephpm_worker_restarts_total", fmt::format("reason=\"{}\"", RestartReasonName(i)),
             s.restarts[i]);
  }
  struct PerWorker {
    const char* name;
    const char* help;
    uint64_t WorkerView::*field;
  };
  static const PerWorker kPerWorker[] = {
      {"ephpm_php_memory_bytes",
       "Zend memory in use when the worker's last PHP request ended (worker mode: what the "
       "application keeps between requests).",
       &WorkerView::php_memory_bytes},
      {"ephpm_php_memory_peak_bytes", "Zend memory peak of the worker's last PHP request.",
       &WorkerView::php_peak_memory_bytes},
      {"ephpm_worker_resident_memory_bytes",
       "Resident memory of the worker process (shared pages of OPcache and the store count in "
       "every worker).",
       &WorkerView::resident_bytes},
  };
  for (const PerWorker& m : kPerWorker) {
    w.Family(m.name, "gauge", m.help);
    for (const WorkerView& v : s.workers) {
      w.Sample(m.name, fmt::format("worker=\"{}\"", v.index), v.*m.field);
    }
  }
}

void StoreFamilies(Writer& w, const MetricsSnapshot& s) {
  const kv::Stats& st = s.store;
  w.Single("ephpm_kv_keys", "gauge", "Keys in the store.", st.keys);
  w.Single("ephpm_kv_memory_used_bytes", "gauge", "Bytes of entries in the store.",
           st.used_memory);
  w.Single("ephpm_kv_memory_limit_bytes", "gauge", "[kv] memory_limit (0 = unlimited).",
           st.memory_limit);
  w.Single("ephpm_kv_hits_total", "counter", "Store reads that found their key.", st.hits);
  w.Single("ephpm_kv_misses_total", "counter", "Store reads that did not find their key.",
           st.misses);
  w.Single("ephpm_kv_evictions_total", "counter", "Entries evicted to make room.", st.evictions);
  w.Single("ephpm_kv_expired_total", "counter", "Entries removed because their TTL ran out.",
           st.expired);
  w.Single("ephpm_kv_discarded_shards_total", "counter",
           "Shards emptied because a process died holding their lock.", st.discarded_shards);
  w.Single("ephpm_kv_watch_slots", "gauge", "Watch slots in use (ephpm_kv_wait).",
           s.store_watch_slots);
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string WorkersJson(const MetricsSnapshot& s) {
  StateCounts n = CountStates(s);
  return fmt::format(R"({{"configured":{},"accepting":{},"busy":{},"starting":{}}})",
                     s.workers_configured, n.accepting, n.busy, n.starting);
}

}  // namespace

std::string FormatPrometheus(const MetricsSnapshot& s) {
  std::string out;
  out.reserve(16 * 1024);
  Writer w(&out);
  HttpFamilies(w, s);
  WorkerFamilies(w, s);
  StoreFamilies(w, s);
  std::string reason;
  w.Single("ephpm_ready", "gauge", "1 when /_ephpm/ready answers 200, else 0.",
           IsReady(s, &reason) ? 1 : 0);
  w.Single("process_resident_memory_bytes", "gauge",
           "Resident memory of the process that answers (the master with worker processes).",
           s.resident_bytes);
  w.Single("process_start_time_seconds", "gauge", "Start time of the server, Unix seconds.",
           fmt::format("{:.3f}", s.start_time_seconds));
  return out;
}

bool IsReady(const MetricsSnapshot& s, std::string* reason) {
  if (s.stopping) {
    *reason = "the server is stopping";
    return false;
  }
  int usable = 0, with_room = 0;
  for (const WorkerView& v : s.workers) {
    if (!v.accepting || (s.worker_mode && !v.booted)) continue;
    ++usable;
    if (s.queue_capacity <= 0 || v.queue_depth < s.queue_capacity) ++with_room;
  }
  if (usable == 0) {
    *reason = s.worker_mode ? "no worker has booted the worker script and accepts connections"
                            : "no worker accepts connections";
    return false;
  }
  if (with_room == 0) {
    *reason = "every worker's PHP queue is full";
    return false;
  }
  reason->clear();
  return true;
}

std::string HealthJson(const MetricsSnapshot& s, pid_t pid, double uptime_seconds) {
  return fmt::format(R"({{"status":"ok","pid":{},"uptime_seconds":{:.3f},"workers":{}}})", pid,
                     uptime_seconds, WorkersJson(s)) +
         "\n";
}

std::string ReadyJson(const MetricsSnapshot& s, bool ready, const std::string& reason) {
  std::string why = ready ? "" : fmt::format(R"(,"reason":"{}")", Escape(reason));
  return fmt::format(R"({{"ready":{}{},"queue_depth":{},"workers":{}}})", ready ? "true" : "false",
                     why, s.queue_depth, WorkersJson(s)) +
         "\n";
}

}  // namespace ephpm::http::metrics
