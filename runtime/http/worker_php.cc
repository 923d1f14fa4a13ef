#include "runtime/http/worker_php.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>

#include "runtime/http/job_queue.h"
#include "runtime/http/metrics.h"
#include "runtime/http/worker.h"
#include "runtime/php/request_memory.h"

namespace ephpm::http {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(5);

php::WorkerScript g_script;  // ConfigureWorkerMode()

// The queue as the worker script's request source.
class QueueSource final : public php::WorkerRequestSource {
 public:
  QueueSource(JobQueue* queue, RequestBudget* budget) : queue_(queue), budget_(budget) {}

  bool Next(const php::RequestInfo** request, php::ResponseWriter** writer) override {
    job_ = queue_->Pop();
    if (!job_) return false;
    if (!job_->writer) {  // the reload marker (RequestWorkerReload)
      job_.reset();
      reload_ = true;
      return false;
    }
    php::RequestInfo& info = job_->info;
    // Every PHP request runs the worker script, as a front controller: the URL the client asked
    // for stays in REQUEST_URI (and PATH_INFO when it addressed the worker script itself).
    if (info.script_filename != g_script.script_filename) {
      info.script_filename = g_script.script_filename;
      info.script_name = g_script.script_name;
      info.path_info.clear();
    }
    *request = &info;
    *writer = job_->writer.get();
    return true;
  }

  void Done(php::Outcome) override {
    job_.reset();
    php::RequestMemory memory = php::TakeRequestMemory();
    metrics::PublishPhpMemory(memory.in_use, memory.peak);
    budget_->Count();
  }

  bool reload() const { return reload_; }

 private:
  JobQueue* queue_;
  RequestBudget* budget_;
  std::unique_ptr<PhpJob> job_;
  bool reload_ = false;
};

struct BootWatch {
  const std::function<void()>* ready;
  bool* attempted;
  Clock::time_point started;
};

void OnBooted(void* arg) {
  auto* watch = static_cast<BootWatch*>(arg);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - watch->started);
  spdlog::info("worker script {} booted in {} ms", g_script.script_filename, ms.count());
  metrics::SetBooted();
  if (!*watch->attempted) {
    *watch->attempted = true;
    (*watch->ready)();
  }
}

// Answers queued requests with 503 until `deadline`. false when the queue was closed.
bool AnswerUnavailable(JobQueue* queue, Clock::time_point deadline, const std::string& reason) {
  for (;;) {
    bool closed = false;
    std::unique_ptr<PhpJob> job = queue->PopUntil(deadline, &closed);
    if (closed) return false;
    if (!job) return true;
    job->writer->Complete(503, {"Content-Type: text/plain; charset=UTF-8", "Retry-After: 1"},
                          "503 Service Unavailable\nthe worker script failed to boot: " + reason +
                              "\n");
  }
}

}  // namespace

bool RequestWorkerReload(JobQueue* queue) {
  return queue->TryPush(std::make_unique<PhpJob>());  // a job without a writer
}

bool ResolveWorkerScript(const config::Config& cfg, const std::string& document_root,
                         php::WorkerScript* out, std::string* error) {
  std::string where = (cfg.source_path.empty() ? std::string("config") : cfg.source_path) +
                      ": [php] worker_script: \"" + cfg.php.worker_script + "\": ";
  char real[PATH_MAX];
  if (realpath(cfg.php.worker_script.c_str(), real) == nullptr) {
    *error = where + strerror(errno);
    return false;
  }
  std::string prefix = document_root == "/" ? "/" : document_root + "/";
  if (std::string_view(real).substr(0, prefix.size()) != prefix) {  // changed since the check
    *error = where + "outside the document root " + document_root;
    return false;
  }
  out->script_filename = real;
  out->document_root = document_root;
  out->script_name = "/" + out->script_filename.substr(prefix.size());
  out->server_name = cfg.server.listen_address.host;
  out->server_port = std::to_string(cfg.server.listen_address.port);
  return true;
}

void ConfigureWorkerMode(const php::WorkerScript& script) { g_script = script; }

void RunWorkerModePhp(JobQueue& queue, RequestBudget& budget, const std::function<void()>& ready) {
  const std::string& name = g_script.script_filename;
  bool attempted = false;
  bool warned_return = false;
  auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff);
  for (;;) {
    QueueSource source(&queue, &budget);
    BootWatch watch{&ready, &attempted, Clock::now()};
    php::WorkerRun run = php::RunWorkerScript(g_script, &source, OnBooted, &watch);
    switch (run.end) {
      case php::WorkerEnd::kStopped:
        if (source.reload()) {
          spdlog::info("worker script {}: SIGHUP; booting it again", name);
          break;
        }
        spdlog::debug("worker script {} stopped after {} request(s)", name, run.served);
        return;
      case php::WorkerEnd::kReturned:
        // A script that handles N requests and returns (its own loop limit) is legitimate.
        if (!warned_return) {
          spdlog::warn("worker script {} returned after {} request(s) without being asked to "
                       "stop; booting it again (logged once)",
                       name, run.served);
          warned_return = true;
        }
        backoff = kFirstBackoff;
        break;
      case php::WorkerEnd::kExit:
        spdlog::info("worker script {}: exit() in a request; booting it again", name);
        backoff = kFirstBackoff;
        break;
      case php::WorkerEnd::kFault:
        spdlog::error("worker script {}: a request ended it ({}); booting it again", name,
                      run.reason);
        backoff = kFirstBackoff;
        break;
      case php::WorkerEnd::kBootFailed:
        spdlog::error("worker script {} failed to boot: {}; retrying in {:.1f} s", name,
                      run.reason, backoff.count() / 1000.0);
        if (!attempted) {  // accept anyway: requests get 503 with the reason, not a hang
          attempted = true;
          ready();
        }
        if (!AnswerUnavailable(&queue, Clock::now() + backoff, run.reason)) return;
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
        break;
    }
  }
}

}  // namespace ephpm::http
