// Prefork mode of `ephpm serve` (`[php] workers` > 1 or `[php] max_requests` > 0; issue 8).
//
// The master (the process `serve` started in) has already loaded the config, opened the listening
// socket, created the named store arena (MAP_SHARED) and run PHP module startup ONCE on its main
// thread, with no watchdog thread, so the process is single-threaded. RunSupervisor() then forks
// the workers; each worker's main thread (the thread that did module startup, so OPcache's shared
// memory and every MINIT are inherited) becomes that worker's only PHP thread, and the worker
// starts its own watchdog, I/O threads and a control thread on the inherited socket and store.
//
// The master stays single-threaded for its whole life (so every fork is taken from a thread-free
// point): one poll() loop over a signalfd and the workers' readiness pipes that also runs the
// store's active-expiry cycle every 100 ms (the sweeper, once for the shared arena) and
// supervises: respawns a dead worker (crash-loop throttled), recycles after max_requests, rolls
// the workers on SIGHUP, drains on SIGTERM/SIGINT, stops at once on SIGQUIT.
#ifndef EPHPM_RUNTIME_HTTP_SUPERVISOR_H_
#define EPHPM_RUNTIME_HTTP_SUPERVISOR_H_

#include <sys/types.h>

#include <string>

#include "runtime/config/config.h"
#include "runtime/php/worker_sapi.h"

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
  // Worker mode: the resolved worker script (worker_php.h); nullptr = classic mode.
  const php::WorkerScript* worker_script = nullptr;
};

// Raises the soft RLIMIT_STACK to at least 64 MiB (embedding-php.md section 11) so the main
// thread, which runs PHP in every worker, may grow that far. Call before PHP starts. Returns
// false (and logs) when the hard limit is lower; the stack is then whatever the limit allows.
bool RaiseMainStackLimit();

// Forks and supervises the workers until SIGTERM/SIGINT (graceful) or SIGQUIT (immediate).
// Must be called on a single-threaded process after PHP module startup (RequestSapiStartup with
// start_watchdog = false), with the server signal mask (php::SetupProcessSignals(kServer)).
// Returns the exit code for the master (0 after a clean stop).
int RunSupervisor(const SupervisorContext& ctx);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_SUPERVISOR_H_
