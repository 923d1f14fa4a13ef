// The process that serves the Redis-protocol listener ([kv.redis_compat] enabled).
//
// `ephpm serve` forks it right after creating the store and before PHP starts, so it is a small
// process that maps the same shared arena as the PHP workers (a SET here is what ephpm_kv_get
// reads in the next request) and holds nothing of PHP. It is a process rather than a thread of the
// master because the master forks its workers from a thread-free state (supervisor.h): a thread
// there would leave its locks and its client sockets in every worker forked later.
//
// `ephpm serve` always runs it under the master of the worker processes, which restarts it when
// it dies (runtime/http/resp_keeper.h). It dies with the process that started it (PR_SET_PDEATHSIG plus a parent check), exits on
// SIGTERM/SIGINT/SIGQUIT, and ignores SIGHUP (a rolling restart is the workers' business).
#ifndef EPHPM_RUNTIME_RESP_PROCESS_H_
#define EPHPM_RUNTIME_RESP_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/kv/store.h"

namespace ephpm::resp {

// Forks the RESP process serving `listen_fd` (bound and listening; the caller closes its own copy
// afterwards). The child closes `close_in_child` (the HTTP and metrics listeners) first. Returns
// its pid, or -1 with *error.
pid_t StartRespProcess(const config::RedisCompatConfig& config, kv::Store* store, int listen_fd,
                       const std::vector<int>& close_in_child, std::string* error);

// What the RESP process runs: serves `listen_fd` until a stop signal, then exits; never returns.
// Called in a child forked by StartRespProcess or by the master restarting a dead one (parent:
// the master's pid, which the child dies with).
[[noreturn]] void RunRespProcess(const config::RedisCompatConfig& config, kv::Store* store,
                                 int listen_fd, pid_t parent);

// SIGTERM, then waits for it (it may already have been reaped by the master's SIGCHLD loop).
void StopRespProcess(pid_t pid);

}  // namespace ephpm::resp

#endif  // EPHPM_RUNTIME_RESP_PROCESS_H_
