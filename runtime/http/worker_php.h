// Worker mode on the HTTP side (`[php] mode = "worker"`, docs/worker-mode.md): how a process's
// PHP thread serves its JobQueue by running the worker script instead of one script per request.
//
// RunWorkerPhp() boots the worker script (runtime/php/worker_sapi.h) and feeds it the queue's
// jobs; every job is rewritten to the worker script (SCRIPT_FILENAME, SCRIPT_NAME, PHP_SELF of
// the worker script, the original REQUEST_URI), so a direct hit on another .php file reaches the
// application like any other URL and that file is never executed. When the script ends it is
// booted again: at once after a request ended it (fatal error, uncaught exception, exit(),
// timeout) or after it returned by itself; with back-off (0.1 s doubling to 5 s) when it fails
// before asking for its first request, answering the queued requests meanwhile with 503 and the
// reason. The loop ends when the queue is closed (drain, recycling, rolling restart).
#ifndef EPHPM_RUNTIME_HTTP_WORKER_PHP_H_
#define EPHPM_RUNTIME_HTTP_WORKER_PHP_H_

#include <functional>
#include <string>

#include "runtime/config/config.h"
#include "runtime/php/worker_sapi.h"

namespace ephpm::http {

class JobQueue;
class RequestBudget;

// [php] worker_script as a WorkerScript. The config loader made it absolute and
// config::CheckServeFiles() checked that it is a regular file inside the document root; this only
// resolves symlinks (false with *error if the file vanished since) and derives SCRIPT_NAME.
bool ResolveWorkerScript(const config::Config& cfg, const std::string& document_root,
                         php::WorkerScript* out, std::string* error);

// Sets the worker script RunWorkerModePhp() runs; once, before any worker starts (the forked
// workers inherit it).
void ConfigureWorkerMode(const php::WorkerScript& script);

// Worker mode's PhpLoop (worker.h): runs on the PHP thread until `queue` is closed and empty.
// ready() is called once, after the first boot attempt (a worker that cannot boot accepts too,
// to answer 503 with the reason); budget.Count() after every answered request.
void RunWorkerModePhp(JobQueue& queue, RequestBudget& budget, const std::function<void()>& ready);

// Thread-safe: makes the worker script of the process serving `queue` end after the request in
// flight and boot again (SIGHUP in the single-process mode), while requests keep queueing.
// false when the queue is full or closed.
bool RequestWorkerReload(JobQueue* queue);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_WORKER_PHP_H_
