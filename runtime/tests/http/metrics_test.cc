// The metrics' aggregation across processes (metrics.h), the exposition and readiness rule
// (metrics_format.h) and the metrics listener's request parsing (metrics_server.h). The
// end-to-end test with a real Prometheus server is runtime/tests/http/metrics_e2e.py.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "runtime/http/metrics.h"
#include "runtime/http/metrics_format.h"
#include "runtime/http/metrics_server.h"

namespace ephpm::http::metrics {
namespace {

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(MetricsTest, DurationBucketsAreUpperBoundsInclusive) {
  EXPECT_EQ(DurationBucket(0), 0);
  EXPECT_EQ(DurationBucket(1000), 0);  // le="0.001" includes 1 ms
  EXPECT_EQ(DurationBucket(1001), 1);
  EXPECT_EQ(DurationBucket(10000000), kDurationBounds - 1);
  EXPECT_EQ(DurationBucket(10000001), kDurationBounds);  // +Inf
}

TEST(MetricsTest, ClassifyExit) {
  EXPECT_EQ(ClassifyExit(0, false), kRestartMaxRequests);  // exit 0 = recycled
  EXPECT_EQ(ClassifyExit(1 << 8, false), kRestartExit);
  EXPECT_EQ(ClassifyExit(kWatchdogExitCode << 8, false), kRestartWatchdog);
  EXPECT_EQ(ClassifyExit(SIGKILL, false), kRestartSignal);
  EXPECT_EQ(ClassifyExit(SIGSEGV, true), kRestartCrashLoop);
  EXPECT_STREQ(RestartReasonName(kRestartSignal), "signal");
}

// A child process counts into its slot and dies without any goodbye (_exit): the counts stay
// in the shared region, and once released they are in the totals exactly once.
TEST(MetricsTest, CountsOfADeadProcessSurviveAndAreFoldedOnce) {
  std::unique_ptr<MetricsRegion> region(MetricsRegion::Create(4));  // its mapping stays; fine here
  ASSERT_NE(region, nullptr);
  int a = region->Acquire();
  int b = region->Acquire();
  ASSERT_GE(a, 0);
  ASSERT_NE(a, b);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    region->Attach(a);
    for (int i = 0; i < 7; ++i) {
      RequestStarted();
      RequestFinished(kRoutePhp, 200, 1500);
    }
    RequestStarted();
    RequestFinished(kRouteStatic, 404, 20);
    Rejected(kRejectQueueFull);
    RequestStarted();  // in flight when it dies
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  region->slot(b).pid.store(12345);
  region->slot(b).counters.requests[kRoutePhp][1].store(5);

  Totals t;
  region->Sum(&t);
  EXPECT_EQ(t.requests[kRoutePhp][1], 12u);  // 7 from the dead child + 5 from the live slot
  EXPECT_EQ(t.requests[kRouteStatic][3], 1u);
  EXPECT_EQ(t.rejected[kRejectQueueFull], 1u);
  EXPECT_EQ(t.duration_buckets[kRoutePhp][DurationBucket(1500)], 7u);
  EXPECT_EQ(t.duration_micros[kRoutePhp], 7u * 1500);
  EXPECT_EQ(region->slot(a).in_flight.load(), 1);

  EXPECT_EQ(region->Release(a), 8u);  // the requests it answered
  region->Sum(&t);
  EXPECT_EQ(t.requests[kRoutePhp][1], 12u) << "released counts are not lost or counted twice";
  EXPECT_EQ(region->slot(a).pid.load(), 0);
  EXPECT_EQ(region->slot(a).in_flight.load(), 0) << "a dead process's gauges are dropped";
  EXPECT_EQ(region->Acquire(), a) << "the slot is free again";
}

TEST(MetricsTest, StatusOutsideHttpRangeIsNotCounted) {
  std::unique_ptr<MetricsRegion> region(MetricsRegion::Create(1));
  ASSERT_NE(region, nullptr);
  WorkerSlot* saved = g_own;
  region->Attach(0);
  RequestStarted();
  RequestFinished(kRoutePhp, 0, 10);
  g_own = saved;
  EXPECT_EQ(RequestsAnswered(region->slot(0)), 0u);
  EXPECT_EQ(region->slot(0).in_flight.load(), 0);
}

MetricsSnapshot SampleSnapshot() {
  MetricsSnapshot s;
  s.totals.requests[kRoutePhp][1] = 10;
  s.totals.requests[kRouteStatic][3] = 2;
  s.totals.duration_buckets[kRoutePhp][0] = 4;
  s.totals.duration_buckets[kRoutePhp][2] = 6;
  s.totals.duration_micros[kRoutePhp] = 1234567;
  s.restarts[kRestartSignal] = 3;
  s.workers_configured = 2;
  WorkerView w;
  w.index = 1;
  w.accepting = true;
  w.busy = true;
  w.php_memory_bytes = 4096;
  s.workers.push_back(w);
  s.store.hits = 42;
  s.store.keys = 5;
  s.queue_capacity = 128;
  return s;
}

TEST(MetricsFormatTest, CountersHistogramAndLabels) {
  std::string text = FormatPrometheus(SampleSnapshot());
  EXPECT_TRUE(Contains(text, "# TYPE ephpm_http_requests_total counter\n"));
  EXPECT_TRUE(Contains(text, "ephpm_http_requests_total{code=\"2xx\",route=\"php\"} 10\n"));
  EXPECT_TRUE(Contains(text, "ephpm_http_requests_total{code=\"4xx\",route=\"static\"} 2\n"));
  EXPECT_TRUE(Contains(text, "ephpm_http_requests_total{code=\"5xx\",route=\"other\"} 0\n"))
      << "every label combination is written";
  // Buckets are cumulative, +Inf equals _count, _sum is in seconds.
  EXPECT_TRUE(Contains(text, "ephpm_http_request_duration_seconds_bucket{route=\"php\",le=\"0.001\"} 4\n"));
  EXPECT_TRUE(Contains(text, "ephpm_http_request_duration_seconds_bucket{route=\"php\",le=\"0.0025\"} 4\n"));
  EXPECT_TRUE(Contains(text, "ephpm_http_request_duration_seconds_bucket{route=\"php\",le=\"0.005\"} 10\n"));
  EXPECT_TRUE(Contains(text, "ephpm_http_request_duration_seconds_bucket{route=\"php\",le=\"+Inf\"} 10\n"));
  EXPECT_TRUE(Contains(text, "ephpm_http_request_duration_seconds_count{route=\"php\"} 10\n"));
  EXPECT_TRUE(Contains(text, "ephpm_http_request_duration_seconds_sum{route=\"php\"} 1.234567\n"));
  EXPECT_TRUE(Contains(text, "ephpm_worker_restarts_total{reason=\"signal\"} 3\n"));
  EXPECT_TRUE(Contains(text, "ephpm_workers{state=\"busy\"} 1\n"));
  EXPECT_TRUE(Contains(text, "ephpm_workers{state=\"idle\"} 0\n"));
  EXPECT_TRUE(Contains(text, "ephpm_php_memory_bytes{worker=\"1\"} 4096\n"));
  EXPECT_TRUE(Contains(text, "ephpm_kv_hits_total 42\n"));
  EXPECT_TRUE(Contains(text, "ephpm_kv_keys 5\n"));
  EXPECT_TRUE(Contains(text, "ephpm_ready 1\n"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsFormatTest, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
  std::string text = FormatPrometheus(SampleSnapshot());
  std::string family;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.substr(7, family.size()), family);
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(family, 0), 0u) << line << " after family " << family;
  }
}

TEST(MetricsFormatTest, Readiness) {
  std::string reason;
  MetricsSnapshot s = SampleSnapshot();
  EXPECT_TRUE(IsReady(s, &reason));

  s.workers[0].queue_depth = 128;  // its queue is full
  EXPECT_FALSE(IsReady(s, &reason));
  EXPECT_EQ(reason, "every worker's PHP queue is full");

  s = SampleSnapshot();
  s.workers[0].accepting = false;
  EXPECT_FALSE(IsReady(s, &reason));
  EXPECT_EQ(reason, "no worker accepts connections");

  s = SampleSnapshot();
  s.worker_mode = true;  // accepting, but its script has not booted
  EXPECT_FALSE(IsReady(s, &reason));
  s.workers[0].booted = true;
  EXPECT_TRUE(IsReady(s, &reason));

  s.stopping = true;
  EXPECT_FALSE(IsReady(s, &reason));
  EXPECT_TRUE(Contains(ReadyJson(s, false, reason), R"("ready":false,"reason":"the server is stopping")"));
  EXPECT_TRUE(Contains(HealthJson(s, 7, 1.5), R"({"status":"ok","pid":7,"uptime_seconds":1.500,)"));
}

TEST(MetricsServerTest, RequestParsing) {
  auto handler = [](std::string_view path) {
    return MetricsResponse{200, "text/plain", "path=" + std::string(path)};
  };
  bool head_only = false;
  MetricsResponse r = MetricsServer::Answer("GET /metrics?x=1 HTTP/1.1\r\nHost: a", handler, &head_only);
  EXPECT_EQ(r.body, "path=/metrics");
  EXPECT_FALSE(head_only);
  r = MetricsServer::Answer("HEAD /_ephpm/ready HTTP/1.0", handler, &head_only);
  EXPECT_TRUE(head_only);
  EXPECT_EQ(MetricsServer::Serialize(r, true).find("path="), std::string::npos);
  EXPECT_EQ(MetricsServer::Answer("POST /metrics HTTP/1.1", handler, &head_only).status, 405);
  EXPECT_EQ(MetricsServer::Answer("garbage", handler, &head_only).status, 400);
  EXPECT_EQ(MetricsServer::Answer("GET /metrics FTP/1", handler, &head_only).status, 400);
  std::string wire = MetricsServer::Serialize({200, "application/json", "{}"}, false);
  EXPECT_EQ(wire,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n{}");
}

}  // namespace
}  // namespace ephpm::http::metrics
