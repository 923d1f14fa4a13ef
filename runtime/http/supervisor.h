// The master of the worker processes (`[php] workers` > 1 or `[php] max_requests` > 0).
//
// The master (the process `serve` started in) has already loaded the config, opened the listening
// socket, created the named store arena (MAP_SHARED) and run PHP module startup ONCE on its main
// thread, with no watchdog thread, so the process is single-threaded. RunSupervisor() then forks
// the workers; each worker's main thread (the thread that did module startup, so OPcache's shared
// memory and every MINIT are inherited) runs RunWorker() (worker.h): it becomes that worker's
// only PHP thread, next to the worker's own watchdog, I/O threads and control thread.
//
// A worker dies with its master (PR_SET_PDEATHSIG plus a parent check, worker.h): a master
// killed with SIGKILL leaves no orphan serving the old store and holding the port. The master
// logs its own fatal signals (SIGSEGV, SIGBUS, ...) with one line on stderr.
//
// The master stays single-threaded for its whole life (so every fork is taken from a thread-free
// point): one poll() loop over a signalfd and the workers' readiness pipes that also runs the
// store's active-expiry cycle every 100 ms (the sweeper, once for the shared arena) and
// supervises: respawns a dead worker (crash-loop throttled) and the RESP process
// (resp_keeper.h), recycles after max_requests,
// reloads the config and rolls the workers on SIGHUP, passes SIGUSR1 (reopen the access log) on
// to every worker, drains on SIGTERM/SIGINT, stops at once on SIGQUIT. The same loop answers the
// `[metrics] listen` endpoint (metrics_server.h) from the workers' shared counter slots
// (metrics.h), and counts every restart by reason; its log line for a worker's exit names the
// reason and how many requests that worker answered.
#ifndef EPHPM_RUNTIME_HTTP_SUPERVISOR_H_
#define EPHPM_RUNTIME_HTTP_SUPERVISOR_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "runtime/config/config.h"

namespace ephpm::kv {
class Store;
}

namespace ephpm::http {

class Router;
class MimeTypes;

struct SupervisorContext {
  const config::Config* cfg = nullptr;
  Router* router = nullptr;
  const MimeTypes* mime = nullptr;
  kv::Store* store = nullptr;
  int listen_fd = -1;  // the master's copy; closed by RunSupervisor when it starts to drain
  int workers = 2;     // resolved (>= 1)
  int metrics_fd = -1;  // [metrics] listen socket, answered in the master's loop; -1 = none
  // SIGHUP: re-reads the config (reload.h). true: *ctx now holds the new cfg, router and worker
  // count, and the master rolls every worker onto them; false: rejected (logged), nothing
  // changes. Empty: SIGHUP only rolls the workers.
  std::function<bool(SupervisorContext* ctx)> reload;
  // [kv.redis_compat]: the RESP process serve started (0: none), its listening socket (kept open
  // by the master for restarts, closed in every worker) and what a restarted one runs in the
  // child (never returns). The master restarts it when it dies and stops it last (resp_keeper.h).
  pid_t resp_pid = 0;
  int resp_listen_fd = -1;
  std::function<void()> resp_main;
};

// Forks and supervises the workers until SIGTERM/SIGINT (graceful) or SIGQUIT (immediate).
// Must be called on a single-threaded process after PHP module startup (RequestSapiStartup with
// start_watchdog = false), with the server signal mask (php::SetupProcessSignals(kServer)).
// Returns the exit code for the master (0 after a clean stop).
int RunSupervisor(const SupervisorContext& ctx);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_SUPERVISOR_H_
