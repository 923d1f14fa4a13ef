// RunWorker (worker.h): the PHP thread, the control thread and the drain.
//
// Threads of a worker: the calling thread runs PHP (the only one allowed to, Debian's PHP is
// NTS); `io_threads` I/O threads run the Server; the watchdog (php::RequestSapiStartWorker);
// and the control thread here, which alone takes the process's signals (they are blocked in
// every thread, docs/embedding-php.md section 7) and runs the drain, so the PHP thread only
// ever waits on its queue.
#include "runtime/http/worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "runtime/http/access_log.h"
#include "runtime/http/job_queue.h"
#include "runtime/http/metrics.h"
#include "runtime/http/reload.h"
#include "runtime/http/worker_php.h"
#include "runtime/php/engine.h"
#include "runtime/php/request_memory.h"
#include "runtime/php/request_sapi.h"

namespace ephpm::http {
namespace {

constexpr rlim_t kMainStack = 64ull << 20;  // docs/embedding-php.md section 11

// A worker with PHP work in flight leaves new connections to a worker that reports itself idle,
// re-checking this often (a dead worker's flag is cleared by the master when it reaps it, a
// draining worker clears its own, so a flag is stale for at most a few milliseconds).
constexpr auto kAcceptBalancePoll = std::chrono::milliseconds(2);

// How often the control thread checks that its master is still there (besides the
// PR_SET_PDEATHSIG signal, which a master that dies while forking can miss) and publishes the
// sampled gauges (metrics.h).
constexpr int kMasterCheckMs = 200;

// How long the PHP thread may take to return from its loop once the queue is closed, before
// the process gives up on it.
constexpr auto kPhpExitWait = std::chrono::seconds(15);

struct DrainPlan {
  std::chrono::milliseconds budget;           // in-flight requests run this long, then ...
  std::chrono::milliseconds after_interrupt;  // ... are interrupted and get this long
  std::chrono::milliseconds php_exit_wait;
};

// Takes the signals and runs the drain, on its own thread.
class Control {
 public:
  Control(const WorkerOptions& options, Server& server, JobQueue& queue, AccessLog& access_log)
      : o_(options), server_(server), queue_(queue), access_log_(access_log) {}

  // Call with every blockable signal blocked (the thread inherits the mask).
  void Start() { thread_ = std::thread([this] { Run(); }); }
  // PHP thread: max_requests reached (the server has already stopped accepting).
  void Recycle() {
    recycle_.store(true);
    pthread_kill(thread_.native_handle(), SIGUSR1);
  }
  // PHP thread: the PHP loop has returned.
  void PhpDone() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      php_done_ = true;
    }
    cv_.notify_all();
  }
  void Join() { thread_.join(); }

 private:
  enum class Stop { kSignal, kRecycle, kMasterGone };

  void Run() {
    pthread_setname_np(pthread_self(), "ephpm-control");
    Stop why = WaitForStop();
    const config::Config& cfg = *o_.cfg;
    DrainPlan plan{DrainBudget(cfg), std::chrono::seconds(5), kPhpExitWait};
    if (why == Stop::kMasterGone) {
      // Nobody supervises this process any more and a new server may be waiting for the port:
      // finish what is quick, then go.
      plan = {std::chrono::seconds(1), std::chrono::milliseconds(500), std::chrono::seconds(1)};
    }
    if (why == Stop::kRecycle) {
      spdlog::info("{}: max_requests ({}) reached; recycling", o_.name, cfg.php.max_requests);
    }
    Drain(plan);
  }

  bool MasterGone() const { return o_.master != 0 && getppid() != o_.master; }

  Stop WaitForStop() {
    sigset_t waitset;
    sigemptyset(&waitset);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&waitset, s);
    const timespec tick{0, kMasterCheckMs * 1000000L};
    for (;;) {
      siginfo_t info;
      int sig = sigtimedwait(&waitset, &info, &tick);
      // The gauges that change too often to keep exact on the request path (metrics.h).
      metrics::PublishLoad(server_.active_connections(), queue_.size());
      if (MasterGone()) {
        spdlog::warn("{}: master (pid {}) is gone; stopping", o_.name, o_.master);
        return Stop::kMasterGone;
      }
      if (sig < 0) continue;
      if (sig == SIGQUIT && o_.sigquit_exits_at_once) {
        fflush(nullptr);
        _exit(0);
      }
      if (sig == SIGUSR1 && recycle_.load()) return Stop::kRecycle;
      if (sig == SIGUSR1) {  // logrotate, directly or passed on by the master
        access_log_.Reopen();
        spdlog::debug("{}: received {}: access log reopened", o_.name, strsignal(sig));
        continue;
      }
      if (sig == SIGINT || sig == SIGTERM || sig == SIGQUIT) {
        spdlog::log(o_.master != 0 ? spdlog::level::debug : spdlog::level::info,
                    "{}: received {}: draining", o_.name, strsignal(sig));
        return Stop::kSignal;
      }
      if (sig == SIGHUP && o_.master == 0 && o_.cfg->php.mode == config::PhpMode::kWorker) {
        // Single-process worker mode: boot the application again (a master rolls its workers).
        bool queued = RequestWorkerReload(&queue_);
        spdlog::info("{}: received {}: {}", o_.name, strsignal(sig),
                     queued ? "booting the worker script again" : "ignored (PHP queue full)");
        continue;
      }
      spdlog::info("{}: received {}: ignored{}", o_.name, strsignal(sig),
                   sig == SIGHUP && o_.master == 0
                       ? " (the configuration is re-read by a master: [php] workers > 1)"
                       : "");
    }
  }

  void Drain(const DrainPlan& plan) {
    if (o_.on_drain) o_.on_drain();
    metrics::SetAccepting(false);
    server_.StopAccepting();
    // A long poll (ephpm_kv_wait) would otherwise hold the drain until its own timeout, up to
    // the whole drain budget with max_execution_time = 0.
    php::CancelKvWaitsForDrain();
    if (!server_.Drain(plan.budget)) {
      spdlog::warn("{}: {} connection(s) still busy after {} ms; interrupting PHP", o_.name,
                   server_.active_connections(), plan.budget.count());
      php::InterruptRunningRequest();
      server_.Drain(plan.after_interrupt);
    }
    queue_.Close();
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, plan.php_exit_wait, [&] { return php_done_; })) {
      spdlog::error("{}: the PHP thread did not stop; exiting", o_.name);
      fflush(nullptr);
      _exit(1);
    }
  }

  const WorkerOptions& o_;
  Server& server_;
  JobQueue& queue_;
  AccessLog& access_log_;
  std::thread thread_;
  std::atomic<bool> recycle_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool php_done_ = false;
};

// Which PHP loop this process runs.
PhpLoop ChoosePhpLoop(const config::Config& cfg) {
  return cfg.php.mode == config::PhpMode::kWorker ? RunWorkerModePhp : RunClassicPhp;
}

}  // namespace

void RunClassicPhp(JobQueue& queue, RequestBudget& budget, const std::function<void()>& ready) {
  ready();
  while (std::unique_ptr<PhpJob> job = queue.Pop()) {
    php::ExecuteRequest(job->info, job->writer.get());
    job.reset();
    php::RequestMemory memory = php::LastRequestMemory();
    metrics::PublishPhpMemory(memory.in_use, memory.peak);
    budget.Count();
  }
}

int RunWorker(const WorkerOptions& o) {
  const config::Config& cfg = *o.cfg;
  // A worker forked after a reload runs its config's PHP settings (reload.h).
  php::ApplyIniChanges(PhpOptionsFor(cfg));
  // This thread is the PHP thread; starts the watchdog.
  php::RequestSapiStartWorker(cfg.php.max_execution_time);

  JobQueue queue(static_cast<size_t>(cfg.server.php_queue_size));
  AccessLog access_log(cfg.log.access_log, cfg.log.access_log_format);
  Server server(cfg, o.router, o.mime, &queue, &access_log);
  if (o.balance != nullptr) server.BalanceAccepts(*o.balance, kAcceptBalancePoll);
  if (o.handoff != nullptr) server.DispatchWith(o.handoff);
  Control control(o, server, queue, access_log);
  {
    sigset_t old;
    php::BlockSignalsForHelperThread(&old);
    server.Start(o.listen_fd);
    control.Start();
    php::RestoreSignalMask(&old);
  }

  RequestBudget budget(cfg.php.max_requests, [&] {
    // Stop accepting right here (returns once the acceptor is closed), so at most the one
    // connection the client opened meanwhile is still taken; the control thread then drains.
    server.StopAccepting();
    control.Recycle();
  });
  bool ready = false;
  auto on_ready = [&] {
    if (ready) return;
    ready = true;
    server.StartAccepting();
    metrics::SetAccepting(true);
    if (o.on_ready) o.on_ready();
  };
  ChoosePhpLoop(cfg)(queue, budget, on_ready);

  control.PhpDone();
  control.Join();
  server.Stop();
  return 0;
}

std::chrono::milliseconds DrainBudget(const config::Config& cfg) {
  return std::chrono::seconds(cfg.php.max_execution_time > 0 ? cfg.php.max_execution_time + 5
                                                             : 30);
}

bool RaiseMainStackLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_STACK, &rl) != 0) return false;
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= kMainStack) return true;
  rlim_t want = kMainStack;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) want = rl.rlim_max;
  rl.rlim_cur = want;
  if (setrlimit(RLIMIT_STACK, &rl) != 0 || want < kMainStack) {
    spdlog::warn("cannot raise RLIMIT_STACK to {} MiB (hard limit {}): the PHP stack is smaller",
                 kMainStack >> 20, static_cast<unsigned long long>(rl.rlim_max));
    return false;
  }
  return true;
}

}  // namespace ephpm::http
