#include "runtime/http/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "runtime/http/child_exit.h"
#include "runtime/http/handoff.h"
#include "runtime/http/metrics.h"
#include "runtime/http/metrics_collect.h"
#include "runtime/http/metrics_server.h"
#include "runtime/http/resp_keeper.h"
#include "runtime/http/server.h"
#include "runtime/http/worker.h"
#include "runtime/kv/store.h"
#include "runtime/kv/sweeper.h"

namespace ephpm::http {
namespace {

using Clock = std::chrono::steady_clock;

// One flag per slot in a MAP_SHARED page created before the first fork: 1 = the slot's worker
// accepts and has no PHP work in flight. Written by the worker (and reset by the master when a
// worker dies); read by every worker's accept loop (Server::BalanceAccepts).
std::atomic<uint8_t>* g_idle = nullptr;
int g_slots = 0;
Handoff* g_handoff = nullptr;  // dispatch between the workers (handoff.h)

// The counter slots (metrics.h): one per live process, so every worker plus the replacement a
// rolling restart starts next to it, with room to spare. Sized for the most workers a reload
// can ask for ([php] workers <= 1024 in config.cc): the region cannot grow once workers share it.
metrics::MetricsRegion* g_region = nullptr;
constexpr int kMostWorkers = 1024;

const char* SigName(int sig) {
  const char* n = sigabbrev_np(sig);
  return n != nullptr ? n : "?";
}

// ---------------------------------------------------------------------------------------------
// The master's own crash: one line on stderr, then the default action (core dump, exit status).
// The line is prepared before any crash can happen, so the handler only calls write(2).
// ---------------------------------------------------------------------------------------------

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
char g_fatal_line[NSIG][96];
struct sigaction g_fatal_previous[NSIG];

void OnMasterFatalSignal(int sig) {
  ssize_t ignored = write(STDERR_FILENO, g_fatal_line[sig], strlen(g_fatal_line[sig]));
  (void)ignored;
  raise(sig);  // SA_RESETHAND restored the default action; SA_NODEFER lets it through now
}

void InstallMasterFatalHandlers() {
  for (int sig : kFatalSignals) {
    snprintf(g_fatal_line[sig], sizeof g_fatal_line[sig],
             "ephpm: master %d: fatal signal %d (SIG%s); the workers stop with it\n",
             static_cast<int>(getpid()), sig, SigName(sig));
    struct sigaction sa {};
    sa.sa_handler = OnMasterFatalSignal;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &g_fatal_previous[sig]);
  }
}

// In a forked worker: its crashes are the master's to report (Reap), not its own to announce.
void RestoreFatalHandlers() {
  for (int sig : kFatalSignals) sigaction(sig, &g_fatal_previous[sig], nullptr);
}

// ---------------------------------------------------------------------------------------------
// Worker (runs in the forked child; never returns)
// ---------------------------------------------------------------------------------------------

[[noreturn]] void WorkerMain(const SupervisorContext& ctx, int slot, int ready_fd, pid_t master) {
  // This worker's copy of the config: io_threads = 0 (auto) means the CPUs shared out between
  // the workers (CPUs - 1 in the single-process mode would give N workers N x (CPUs - 1) threads).
  config::Config cfg = *ctx.cfg;
  if (cfg.server.io_threads <= 0) {
    int cpus = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    cfg.server.io_threads = std::max(1, (cpus - 1) / std::max(1, ctx.workers));
  }
  // The child's only thread is this one (the master is single-threaded when it forks). It
  // inherited the server signal mask; SIGCHLD was blocked for the master's signalfd only.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_UNBLOCK, &chld, nullptr);
  pthread_setname_np(pthread_self(), "ephpm-php");

  static std::atomic<bool> draining{false};
  Server::Balance balance;
  balance.others_idle = [slot] {
    for (int i = 0; i < g_slots; ++i) {
      if (i != slot && g_idle[i].load(std::memory_order_relaxed) != 0) return true;
    }
    return false;
  };
  balance.busy_changed = [slot](bool busy) {
    if (!draining.load(std::memory_order_relaxed)) {
      g_idle[slot].store(busy ? 0 : 1, std::memory_order_relaxed);
    }
  };
  WorkerOptions options;
  options.cfg = &cfg;
  options.router = ctx.router;
  options.mime = ctx.mime;
  options.listen_fd = ctx.listen_fd;
  options.name = "worker " + std::to_string(slot);
  options.balance = &balance;
  g_handoff->BecomeWorker(slot);
  // A slot a reload added has no socket pair (they exist from before the first fork): its
  // worker neither sends nor receives connections, and the others never claim it.
  options.handoff = slot < g_handoff->slots() ? g_handoff : nullptr;
  options.master = master;
  options.sigquit_exits_at_once = true;
  options.on_ready = [slot, ready_fd] {  // tell the master (and the other workers) we accept
    g_idle[slot].store(1, std::memory_order_relaxed);
    char r = 'R';
    ssize_t ignored = write(ready_fd, &r, 1);
    (void)ignored;
    close(ready_fd);
  };
  options.on_drain = [slot] {
    draining = true;
    g_idle[slot].store(0, std::memory_order_relaxed);
  };
  int rc = RunWorker(options);
  // No module shutdown and no destructors: the master owns the store name and OPcache's shared
  // memory; everything of this process's own goes away with it.
  fflush(nullptr);
  _exit(rc);
}

// ---------------------------------------------------------------------------------------------
// Master
// ---------------------------------------------------------------------------------------------

struct Proc {
  int slot = 0;
  int metrics_slot = -1;
  Clock::time_point started;
  int ready_fd = -1;
  bool ready = false;
  bool retiring = false;  // told to drain (rolling restart); not respawned
};

struct Slot {
  pid_t current = 0;      // the worker serving this slot
  pid_t replacement = 0;  // rolling restart: started, not ready yet
  int quick_failures = 0;
  Clock::time_point respawn_at{};
};

class Master {
 public:
  explicit Master(const SupervisorContext& ctx)
      : ctx_(ctx), slots_(ctx.workers), resp_(ctx.resp_pid, ctx.resp_main, g_region) {
    if (ctx.metrics_fd >= 0) {
      metrics_ = std::make_unique<MetricsServer>(
          ctx.metrics_fd, [this](std::string_view path) { return metrics::Respond(path, Snapshot()); });
    }
  }

  int Run() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    sfd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd_ < 0) {
      spdlog::error("signalfd: {}", strerror(errno));
      return 1;
    }
    spdlog::info("master {}: starting {} worker(s){}", getpid(), ctx_.workers,
                 ctx_.cfg->php.max_requests > 0
                     ? ", recycled after " + std::to_string(ctx_.cfg->php.max_requests) +
                           " requests"
                     : std::string());
    auto next_sweep = Clock::now() + std::chrono::milliseconds(kv::kSweeperTickMs);
    for (;;) {
      auto now = Clock::now();
      if (!stopping_) {
        SpawnMissing(now);
        StepRolling(now);
        resp_.RestartIfDue(now, [this] { CloseMasterFdsInChild(); });
      } else if (procs_.empty()) {
        break;
      } else if (now >= stop_deadline_ && !killed_) {
        spdlog::warn("{} worker(s) still running after the stop deadline; killing them",
                     procs_.size());
        for (auto& [pid, p] : procs_) kill(pid, SIGKILL);
        killed_ = true;
      }
      if (now >= next_sweep) {
        ctx_.store->ActiveExpireCycle();
        next_sweep = now + std::chrono::milliseconds(kv::kSweeperTickMs);
      }
      // Wait for a signal, a readiness byte, the next sweep or the next scheduled respawn.
      auto wake = next_sweep;
      if (!stopping_) {
        wake = std::min(wake, resp_.restart_at());
        for (const Slot& s : slots_) {
          if (s.current == 0 && s.replacement == 0) wake = std::min(wake, s.respawn_at);
        }
      } else if (!killed_) {
        wake = std::min(wake, stop_deadline_);
      }
      int timeout_ms = static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count() +
                 1));
      std::vector<pollfd> fds;
      fds.push_back({sfd_, POLLIN, 0});
      std::vector<pid_t> pids;
      for (auto& [pid, p] : procs_) {
        if (p.ready_fd >= 0) {
          fds.push_back({p.ready_fd, POLLIN, 0});
          pids.push_back(pid);
        }
      }
      size_t metrics_first = fds.size();
      if (metrics_) {
        int metrics_ms = metrics_->AddPollFds(&fds);
        if (metrics_ms >= 0) timeout_ms = std::min(timeout_ms, metrics_ms);
      }
      int n = poll(fds.data(), fds.size(), timeout_ms);
      if (n < 0 && errno != EINTR) {
        spdlog::error("poll: {}", strerror(errno));
        continue;
      }
      if (metrics_) metrics_->OnPoll(fds, metrics_first);  // also ends timed-out connections
      if (n <= 0) continue;
      for (size_t i = 1; i < metrics_first; ++i) {
        if (fds[i].revents != 0) OnReadyFd(pids[i - 1]);
      }
      if (fds[0].revents & POLLIN) OnSignals();
    }
    resp_.Stop();  // after the workers, as PHP may use it until the end of their drain
    close(sfd_);
    spdlog::info("master {}: all workers stopped", getpid());
    return 0;
  }

 private:
  void Spawn(int slot, bool as_replacement) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
      spdlog::error("pipe: {}", strerror(errno));
      slots_[slot].respawn_at = Clock::now() + std::chrono::seconds(1);
      return;
    }
    fflush(nullptr);  // nothing buffered may be written twice
    int metrics_slot = g_region->Acquire();
    pid_t pid = fork();
    if (pid < 0) {
      spdlog::error("fork: {}; retrying in 1 s", strerror(errno));
      if (metrics_slot >= 0) g_region->Release(metrics_slot);
      close(pipefd[0]);
      close(pipefd[1]);
      slots_[slot].respawn_at = Clock::now() + std::chrono::seconds(1);
      return;
    }
    if (pid == 0) {
      // Die with the master: SIGTERM (a short drain, worker.h) when it exits. A master that died
      // before this line was reached is caught by the check after it.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != master_pid_) _exit(0);
      if (metrics_slot >= 0) g_region->Attach(metrics_slot);
      close(pipefd[0]);
      CloseMasterFdsInChild();
      if (ctx_.resp_listen_fd >= 0) close(ctx_.resp_listen_fd);
      WorkerMain(ctx_, slot, pipefd[1], master_pid_);
    }
    close(pipefd[1]);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    Proc p;
    p.slot = slot;
    p.metrics_slot = metrics_slot;
    p.started = Clock::now();
    p.ready_fd = pipefd[0];
    procs_[pid] = p;
    if (as_replacement) {
      slots_[slot].replacement = pid;
    } else {
      slots_[slot].current = pid;
    }
    spdlog::info("worker {} started: pid {}{}", slot, pid,
                 as_replacement ? " (rolling restart)" : "");
  }

  // What a child forked by the master (a worker, the RESP process) must not keep of it.
  void CloseMasterFdsInChild() {
    RestoreFatalHandlers();
    if (metrics_) metrics_->CloseFds();
    close(sfd_);
    for (auto& [other, p] : procs_) {
      if (p.ready_fd >= 0) close(p.ready_fd);
    }
  }

  void SpawnMissing(Clock::time_point now) {
    for (int i = 0; i < static_cast<int>(slots_.size()); ++i) {
      Slot& s = slots_[i];
      if (s.current == 0 && s.replacement == 0 && now >= s.respawn_at) Spawn(i, false);
    }
  }

  // Rolling restart: one slot at a time, start the replacement, and only when it accepts, tell
  // the old worker to drain; the next slot starts when the old one has exited.
  void StepRolling(Clock::time_point now) {
    if (roll_waiting_ != 0 || roll_queue_.empty()) return;
    for (const Slot& s : slots_) {
      if (s.replacement != 0) return;
    }
    int slot = roll_queue_.front();
    Slot& s = slots_[slot];
    if (s.current == 0) {  // being respawned anyway: the new worker is already fresh
      roll_queue_.pop_front();
      return;
    }
    if (now < s.respawn_at) return;
    roll_queue_.pop_front();
    Spawn(slot, true);
  }

  void OnReadyFd(pid_t pid) {
    auto it = procs_.find(pid);
    if (it == procs_.end()) return;
    Proc& p = it->second;
    char c;
    ssize_t r = read(p.ready_fd, &c, 1);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close(p.ready_fd);
    p.ready_fd = -1;
    if (r != 1) return;  // died before it was ready: SIGCHLD handles it
    p.ready = true;
    if (p.slot >= static_cast<int>(slots_.size())) return;  // its slot was removed: it drains
    Slot& s = slots_[p.slot];
    if (s.replacement == pid) {
      pid_t old = s.current;
      s.current = pid;
      s.replacement = 0;
      if (old != 0) {
        auto o = procs_.find(old);
        if (o != procs_.end()) o->second.retiring = true;
        kill(old, SIGTERM);
        roll_waiting_ = old;
        spdlog::info("worker {}: pid {} ready; draining pid {}", p.slot, pid, old);
      }
      if (stopping_) kill(pid, stop_signal_);
    }
  }

  void OnSignals() {
    signalfd_siginfo si;
    while (read(sfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      int sig = static_cast<int>(si.ssi_signo);
      switch (sig) {
        case SIGCHLD:
          Reap();
          break;
        case SIGTERM:
        case SIGINT:
        case SIGQUIT:
          Stop(sig);
          break;
        case SIGUSR1:  // logrotate: every worker writes its own access log lines
          spdlog::info("received SIGUSR1: reopening the access log in {} worker(s)",
                       procs_.size());
          for (auto& [pid, p] : procs_) kill(pid, SIGUSR1);
          break;
        case SIGHUP:
          if (stopping_) break;
          spdlog::info("received SIGHUP: reloading the configuration");
          if (ctx_.reload && !ctx_.reload(&ctx_)) break;
          {
            // Slots a resize adds are spawned with the new configuration already: only the
            // workers that ran the old one are restarted.
            int running_old = std::min(static_cast<int>(slots_.size()), ctx_.workers);
            ResizeSlots(ctx_.workers);
            spdlog::info("rolling restart of {} worker(s)", running_old);
            for (int i = 0; i < running_old; ++i) {
              if (std::find(roll_queue_.begin(), roll_queue_.end(), i) == roll_queue_.end()) {
                roll_queue_.push_back(i);
              }
            }
          }
          break;
        default:
          spdlog::info("received {}: ignored", strsignal(sig));
      }
    }
  }

  // A reload changed [php] workers: new slots are filled by SpawnMissing(); the workers of
  // removed slots drain (the others take their connections, as in a rolling restart).
  void ResizeSlots(int workers) {
    int old = static_cast<int>(slots_.size());
    if (workers == old) return;
    spdlog::info("workers: {} -> {}", old, workers);
    for (int i = workers; i < old; ++i) {
      for (pid_t pid : {slots_[i].current, slots_[i].replacement}) {
        auto it = procs_.find(pid);
        if (pid == 0 || it == procs_.end()) continue;
        it->second.retiring = true;
        kill(pid, SIGTERM);
      }
      g_idle[i].store(0, std::memory_order_relaxed);
    }
    slots_.resize(workers);
    g_slots = workers;
    roll_queue_.erase(std::remove_if(roll_queue_.begin(), roll_queue_.end(),
                                     [workers](int slot) { return slot >= workers; }),
                      roll_queue_.end());
  }

  void Stop(int sig) {
    if (stopping_ && !(sig == SIGQUIT && stop_signal_ != SIGQUIT)) return;
    bool immediate = sig == SIGQUIT;
    spdlog::info("received {}: {}", strsignal(sig),
                 immediate ? "stopping workers now" : "draining workers");
    stopping_ = true;
    stop_signal_ = immediate ? SIGQUIT : SIGTERM;
    stop_deadline_ = Clock::now() + (immediate ? std::chrono::milliseconds(3000)
                                               : DrainBudget(*ctx_.cfg) + std::chrono::seconds(20));
    roll_queue_.clear();
    if (listen_open_) {  // new connections are refused once every worker stopped accepting too
      close(ctx_.listen_fd);
      listen_open_ = false;
    }
    for (auto& [pid, p] : procs_) kill(pid, stop_signal_);
  }

  void Reap() {
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      if (resp_.Reaped(pid, status, stopping_)) continue;
      auto it = procs_.find(pid);
      if (it == procs_.end()) continue;
      Proc p = it->second;
      if (p.ready_fd >= 0) close(p.ready_fd);
      procs_.erase(it);
      auto now = Clock::now();
      double lived = std::chrono::duration<double>(now - p.started).count();
      bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      // Its counters join the master's totals; the log lines say how much it served.
      uint64_t answered = p.metrics_slot >= 0 ? g_region->Release(p.metrics_slot) : 0;
      std::string served = fmt::format("after {:.1f} s and {} request(s)", lived, answered);
      std::string how = DescribeExit(status) + " " + served;
      if (roll_waiting_ == pid) roll_waiting_ = 0;
      if (p.slot >= static_cast<int>(slots_.size())) {  // a slot a reload removed
        spdlog::info("worker {} (pid {}) {} (slot removed by a reload)", p.slot, pid, how);
        continue;
      }
      Slot& s = slots_[p.slot];
      if (s.current == pid) {
        g_idle[p.slot].store(0, std::memory_order_relaxed);
        g_handoff->WorkerGone(p.slot);
      }
      if (stopping_ || p.retiring) {
        if (p.retiring && !stopping_) g_region->CountRestart(metrics::kRestartRolling);
        spdlog::info("worker {} (pid {}) {}{}", p.slot, pid, how,
                     p.retiring && !stopping_ ? " (rolling restart)" : "");
        if (s.current == pid) s.current = 0;
        continue;
      }
      bool was_replacement = s.replacement == pid;
      if (was_replacement) {
        s.replacement = 0;
        roll_queue_.push_front(p.slot);  // retry this slot's rolling restart
      } else if (s.current == pid) {
        s.current = 0;
      }
      if (clean) {  // a recycled worker (max_requests): replace it at once
        s.quick_failures = 0;
        s.respawn_at = now;
        g_region->CountRestart(metrics::kRestartMaxRequests);
        spdlog::info("worker {} (pid {}) recycled {}; respawning (reason: max_requests)", p.slot,
                     pid, served);
        continue;
      }
      std::chrono::milliseconds delay = CrashLoopDelay(now - p.started, &s.quick_failures);
      s.respawn_at = now + delay;
      metrics::RestartReason reason = metrics::ClassifyExit(status, delay.count() > 0);
      g_region->CountRestart(reason);
      if (delay.count() == 0) {
        spdlog::error("worker {} (pid {}) {}; respawning (reason: {})", p.slot, pid, how,
                      metrics::RestartReasonName(reason));
      } else {
        spdlog::error(
            "worker {} (pid {}) {}; crash loop ({} quick failures in a row): "
            "next respawn in {:.2f} s (reason: crash_loop)",
            p.slot, pid, how, s.quick_failures, delay.count() / 1000.0);
      }
    }
  }

  // What the metrics listener reports (metrics_collect.h): the shared slots, plus which process
  // is each index's current worker and which are replacements still booting.
  metrics::MetricsSnapshot Snapshot() const {
    metrics::MetricsSnapshot s;
    metrics::CollectCommon(*g_region, ctx_.store, *ctx_.cfg, &s);
    s.workers_configured = static_cast<int>(slots_.size());
    s.stopping = stopping_;
    for (int i = 0; i < static_cast<int>(slots_.size()); ++i) {
      const Slot& slot = slots_[i];
      if (slot.replacement != 0) ++s.workers_starting;
      auto it = procs_.find(slot.current);
      if (slot.current == 0 || it == procs_.end() || it->second.metrics_slot < 0) continue;
      s.workers.push_back(metrics::ViewOf(g_region->slot(it->second.metrics_slot), i, slot.current));
    }
    return s;
  }

  SupervisorContext ctx_;  // a reload replaces cfg, router and workers
  const pid_t master_pid_ = getpid();
  std::vector<Slot> slots_;
  std::map<pid_t, Proc> procs_;
  std::deque<int> roll_queue_;
  pid_t roll_waiting_ = 0;
  int sfd_ = -1;
  bool stopping_ = false;
  bool killed_ = false;
  bool listen_open_ = true;
  int stop_signal_ = SIGTERM;
  Clock::time_point stop_deadline_;
  std::unique_ptr<MetricsServer> metrics_;  // [metrics] listen, or none
  RespKeeper resp_;  // [kv.redis_compat]'s process, or none
};

}  // namespace

int RunSupervisor(const SupervisorContext& ctx) {
  size_t bytes = std::max<size_t>(4096, static_cast<size_t>(ctx.workers));
  void* flags = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (flags == MAP_FAILED) {
    spdlog::error("mmap: {}", strerror(errno));
    return 1;
  }
  g_idle = static_cast<std::atomic<uint8_t>*>(flags);  // zero-filled: nobody idle yet
  g_slots = ctx.workers;
  g_region = metrics::MetricsRegion::Create(2 * std::max(ctx.workers, kMostWorkers) + 2);
  if (g_region == nullptr) {
    spdlog::error("mmap: {}", strerror(errno));
    return 1;
  }
  std::string error;
  std::unique_ptr<Handoff> handoff = Handoff::Create(ctx.workers, g_idle, &error);
  if (!handoff) {
    spdlog::error("dispatch between workers: {}", error);
    return 1;
  }
  g_handoff = handoff.get();
  InstallMasterFatalHandlers();
  Master master(ctx);
  return master.Run();
}

}  // namespace ephpm::http
