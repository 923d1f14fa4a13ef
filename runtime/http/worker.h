// One worker: the life of a process that serves HTTP and runs PHP, from "PHP is started" to its
// exit. Both ways `ephpm serve` runs use it: the single-process mode runs one worker in the
// process itself (serve_main.cc), and the master of the worker processes (supervisor.h) forks
// one per slot. Everything a worker does is therefore written once: its job queue, access log
// and Server, the PHP loop on the calling thread, the control thread that takes signals, and
// the drain.
//
// How this process runs PHP is chosen here: a PHP loop (PhpLoop) pops jobs until the queue is
// closed. RunClassicPhp() runs every request in a fresh PHP request (php-fpm's model);
// RunWorkerModePhp() (worker_php.h, `[php] mode = "worker"`) serves them all with one
// long-running worker script. The loop decides when the worker is ready ("this worker
// accepts"): the classic loop is ready at once, worker mode after the first boot attempt.
//
// The drain (signal, max_requests reached, master gone): stop accepting, stop ephpm_kv_wait()
// calls, let in-flight requests finish while idle keep-alive connections are closed, interrupt
// what is still running after the drain budget, close the queue, let the PHP loop return.
#ifndef EPHPM_RUNTIME_HTTP_WORKER_H_
#define EPHPM_RUNTIME_HTTP_WORKER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "runtime/config/config.h"
#include "runtime/http/server.h"

namespace ephpm::http {

class Handoff;
class JobQueue;

struct WorkerOptions {
  const config::Config* cfg = nullptr;  // this process's copy (io_threads resolved)
  Router* router = nullptr;
  const MimeTypes* mime = nullptr;
  int listen_fd = -1;
  std::string name = "server";  // in log lines: "worker 3"
  // On the PHP thread, once, when this worker starts accepting connections.
  std::function<void()> on_ready;
  // On the control thread, when the drain begins (before accepting stops).
  std::function<void()> on_drain;
  // Worker processes only: accept balancing (server.h), the master to outlive no longer than a
  // short drain (0 = none), and SIGQUIT ending the process at once instead of draining.
  const Server::Balance* balance = nullptr;
  Handoff* handoff = nullptr;  // dispatch between the workers (handoff.h)
  pid_t master = 0;
  bool sigquit_exits_at_once = false;
};

// Runs the worker on the calling thread, which must be the thread that ran PHP module startup
// (php::RequestSapiStartup with start_watchdog = false): it becomes the process's PHP thread.
// Call with the server signal mask (php::SetupProcessSignals(kServer)). Returns after a drain
// with the process exit code (0).
int RunWorker(const WorkerOptions& options);

// Counts the requests a PHP loop runs; when `[php] max_requests` (> 0) have run, on_spent() is
// called once (the worker then stops accepting and drains; the loop carries on with what was
// already accepted until the queue closes).
class RequestBudget {
 public:
  RequestBudget(uint64_t max_requests, std::function<void()> on_spent)
      : max_requests_(max_requests), on_spent_(std::move(on_spent)) {}
  void Count() {
    if (max_requests_ > 0 && ++served_ == max_requests_) on_spent_();
  }

 private:
  const uint64_t max_requests_;
  uint64_t served_ = 0;
  std::function<void()> on_spent_;
};

// A PHP loop: runs the queue's jobs on the calling (PHP) thread until the queue is closed and
// empty. Calls ready() once, when the worker may accept connections.
using PhpLoop = void (*)(JobQueue& queue, RequestBudget& budget,
                         const std::function<void()>& ready);
void RunClassicPhp(JobQueue& queue, RequestBudget& budget, const std::function<void()>& ready);

// How long a drain lets in-flight requests run before interrupting them: max_execution_time + 5 s
// (30 s when it is unlimited).
std::chrono::milliseconds DrainBudget(const config::Config& cfg);

// Raises the soft RLIMIT_STACK to at least 64 MiB (docs/embedding-php.md section 11) so the
// main thread, which runs PHP, may grow that far. Call before PHP starts. Returns false (and
// logs) when the hard limit is lower; the stack is then whatever the limit allows.
bool RaiseMainStackLimit();

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_WORKER_H_
