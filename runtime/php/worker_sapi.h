// runtime/php/worker_sapi.h: worker mode on the request SAPI (docs/worker-mode.md).
//
// The worker script is booted once as one long PHP request; each ephpm_handle_request() (or
// Ephpm\Worker\take_request()) call inside it takes the next HTTP request from a
// WorkerRequestSource and serves it as a "request within the request": superglobals, body,
// headers, status, output layer, session, INI changes and the watchdog are per request, while
// everything the script built (objects, statics, globals, connections) persists.
//
// Plain C++ interface (no PHP headers), used by runtime/http. Runs on the PHP thread, after
// RequestSapiStartup() (and RequestSapiStartWorker() in a forked worker).
#ifndef EPHPM_RUNTIME_PHP_WORKER_SAPI_H_
#define EPHPM_RUNTIME_PHP_WORKER_SAPI_H_

#include <cstdint>
#include <string>

#include "runtime/php/request_sapi.h"

namespace ephpm::php {

// Where a worker script's requests come from (the HTTP side implements it). Called on the PHP
// thread only, never with a PHP bailout possible inside.
class WorkerRequestSource {
 public:
  virtual ~WorkerRequestSource() = default;
  // Blocks until the next request for this worker. The pointers stay valid until Done().
  // false: the worker must stop (queue closed: drain, recycle, rolling restart).
  virtual bool Next(const RequestInfo** request, ResponseWriter** writer) = 0;
  // The writer of the request returned by the last Next() has received its whole response.
  virtual void Done(Outcome outcome) = 0;
};

struct WorkerScript {
  std::string script_filename;  // absolute
  std::string script_name;      // URL path, e.g. "/index.php"
  std::string document_root;
  std::string server_name;      // for $_SERVER during the boot
  std::string server_port;
};

// How one run of the worker script ended.
enum class WorkerEnd {
  kStopped,     // the source said stop and the script returned
  kReturned,    // the script returned by itself after serving requests
  kFault,       // a request ended the script: fatal error, uncaught exception, timeout
  kExit,        // exit() in a request ended the script (the request was answered normally)
  kBootFailed,  // the script ended before it asked for its first request
};

struct WorkerRun {
  WorkerEnd end = WorkerEnd::kStopped;
  uint64_t served = 0;  // requests answered during this run
  std::string reason;   // kBootFailed / kFault: the PHP error ("message in file:line"), or why
};

// Boots `script` and serves requests from `source` until the script ends. `on_booted` (may be
// null) is called once, when the script first asks for a request. Never throws.
WorkerRun RunWorkerScript(const WorkerScript& script, WorkerRequestSource* source,
                          void (*on_booted)(void* arg), void* arg);

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_WORKER_SAPI_H_
