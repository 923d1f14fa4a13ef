// runtime/php/worker_internal.h: the per-request half of worker mode, shared by worker_sapi.cc
// (which owns the state) and worker_functions.cc (the PHP functions that drive it). Internal to
// runtime/php; PHP thread only.
//
// Invariant while a worker script runs: a SAPI + output "layer" is always active. Outside a
// request it belongs to the idle context (output discarded); WorkerBeginRequest() swaps it for
// the request's, WorkerEndRequest() swaps it back. These functions call into Zend and may bail
// out: callers keep no C++ object with a destructor live across them.
#ifndef EPHPM_RUNTIME_PHP_WORKER_INTERNAL_H_
#define EPHPM_RUNTIME_PHP_WORKER_INTERNAL_H_

#include <cstdint>

#include "runtime/php/request_context.h"

namespace ephpm::php {

bool WorkerActive();    // a worker script is running (worker mode)
bool WorkerInFlight();  // a request is being served
bool WorkerStopping();  // the source said stop, or a fault ended the loop
// ephpm_handle_request() is running its handler (a nested call is an error).
bool WorkerInHandler();
void WorkerSetInHandler(bool in_handler);
// Takes the next request and installs it (superglobals, body, headers, watchdog). false: the
// worker must stop; the idle layer stays active.
bool WorkerBeginRequest();
// Ends the request in flight: flushes the output buffers left open, closes the session, answers
// (unless already answered), resets per-request state and re-installs the idle layer.
void WorkerEndRequest();
// An uncaught exception ended a handler: answer (500 policy) and stop the loop so the script
// boots again.
void WorkerFailRequest();
// Bumped per request; an Envelope of an older generation reads as empty.
uint64_t WorkerGeneration();
const RequestInfo* WorkerRequest();  // the request in flight, or nullptr
RequestContext* WorkerContext();     // the in-flight context, or nullptr

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_WORKER_INTERNAL_H_
