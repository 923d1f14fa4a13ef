// The master's care of the RESP process ([kv.redis_compat], runtime/resp/process.h): serve
// starts it before PHP; the master (supervisor.h) restarts it whenever it dies, like a worker
// (same crash-loop back-off, logged with the reason, counted in the restarts-by-reason metric),
// and stops it after the workers when the server stops. The store lives in the shared arena, so
// a restarted RESP process serves the same data. It forks from the master's loop, which is
// thread-free, and holds no state but a pid and a schedule.
#ifndef EPHPM_RUNTIME_HTTP_RESP_KEEPER_H_
#define EPHPM_RUNTIME_HTTP_RESP_KEEPER_H_

#include <sys/types.h>

#include <chrono>
#include <functional>

#include "runtime/http/metrics.h"

namespace ephpm::http {

class RespKeeper {
 public:
  using Clock = std::chrono::steady_clock;

  // `pid`: the RESP process serve started (0: RESP is off, and this does nothing). `child_main`
  // serves RESP in a freshly forked child and never returns.
  RespKeeper(pid_t pid, std::function<void()> child_main, metrics::MetricsRegion* region);

  // For each child the master reaps: true when it was the RESP process (then it is handled: a
  // restart is scheduled unless the master is stopping).
  bool Reaped(pid_t pid, int status, bool stopping);
  // When a restart is due (Clock::time_point::max() when none is).
  Clock::time_point restart_at() const { return restart_at_; }
  // Forks the replacement once it is due; in_child closes the master's own descriptors in it.
  void RestartIfDue(Clock::time_point now, const std::function<void()>& in_child);
  // SIGTERM, then waits for it to exit.
  void Stop();

 private:
  pid_t pid_;
  std::function<void()> child_main_;
  metrics::MetricsRegion* region_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point restart_at_ = Clock::time_point::max();
  int quick_failures_ = 0;
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_RESP_KEEPER_H_
