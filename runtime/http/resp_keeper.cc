#include "runtime/http/resp_keeper.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "runtime/http/child_exit.h"

namespace ephpm::http {

RespKeeper::RespKeeper(pid_t pid, std::function<void()> child_main,
                       metrics::MetricsRegion* region)
    : pid_(pid), child_main_(std::move(child_main)), region_(region) {}

bool RespKeeper::Reaped(pid_t pid, int status, bool stopping) {
  if (pid_ <= 0 || pid != pid_) return false;
  pid_ = 0;
  std::string how = DescribeExit(status);
  if (stopping || !child_main_) {
    spdlog::info("RESP process (pid {}) {}", pid, how);
    return true;
  }
  auto now = Clock::now();
  std::chrono::milliseconds delay = CrashLoopDelay(now - started_, &quick_failures_);
  restart_at_ = now + delay;
  metrics::RestartReason reason = metrics::ClassifyExit(status, delay.count() > 0);
  if (region_ != nullptr) region_->CountRestart(reason);
  spdlog::error("RESP process (pid {}) {}; restarting {} (reason: {})", pid, how,
                delay.count() == 0 ? std::string("now")
                                   : fmt::format("in {:.2f} s", delay.count() / 1000.0),
                metrics::RestartReasonName(reason));
  return true;
}

void RespKeeper::RestartIfDue(Clock::time_point now, const std::function<void()>& in_child) {
  if (pid_ != 0 || now < restart_at_) return;
  fflush(nullptr);  // nothing buffered may be written twice
  pid_t pid = fork();
  if (pid < 0) {
    spdlog::error("fork (RESP process): {}; retrying in 1 s", strerror(errno));
    restart_at_ = now + std::chrono::seconds(1);
    return;
  }
  if (pid == 0) {
    in_child();
    child_main_();
    _exit(1);  // child_main never returns
  }
  pid_ = pid;
  started_ = now;
  restart_at_ = Clock::time_point::max();
  spdlog::info("RESP process started: pid {}", pid);
}

void RespKeeper::Stop() {
  restart_at_ = Clock::time_point::max();
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = 0;
}

}  // namespace ephpm::http
