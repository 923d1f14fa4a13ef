// runtime/php/request_context.h: what the classic request SAPI (request_sapi.cc) shares with
// worker mode (worker_sapi.cc, worker_functions.cc). Internal to runtime/php.
//
// One RequestContext describes the request the SAPI callbacks (ub_write, send_headers,
// read_post, read_cookies, register_server_variables) are currently serving; CurrentContext()
// points at it. Classic mode keeps it in ExecuteRequest()'s frame; worker mode keeps two of them
// in a process-global (the request in flight, and an "idle" context that swallows output written
// outside any request).
//
// Everything here runs on the PHP thread. No function below may be called with a C++ object
// with a destructor live in a frame a bailout could cross (docs/embedding-php.md section 11).
#ifndef EPHPM_RUNTIME_PHP_REQUEST_CONTEXT_H_
#define EPHPM_RUNTIME_PHP_REQUEST_CONTEXT_H_

#include <string>
#include <vector>

#include "runtime/php/request_sapi.h"

namespace ephpm::php {

struct RequestContext {
  const RequestInfo* info = nullptr;
  ResponseWriter* writer = nullptr;
  size_t body_read = 0;
  std::string cookies;
  std::string content_type;
  const char* authorization = nullptr;  // points into info->headers
  std::string out;
  bool streaming = false;
  bool client_gone = false;
  bool headers_captured = false;
  int status = 200;
  std::vector<std::string> header_lines;
  // The response was already handed to the writer (fastcgi_finish_request(), send_response()):
  // later output is discarded and the request end does not answer again.
  bool responded = false;
  // Output is dropped (worker mode, outside a request).
  bool discard = false;
  // Worker mode: a client that went away never aborts the script (that would throw away the
  // booted application); output is discarded and connection_aborted() reports it.
  bool worker = false;
};

// The context the SAPI callbacks serve (nullptr = none).
RequestContext*& CurrentContext();

// Fills the derived fields (cookies, content type, authorization) from ctx->info.
void PrepareContext(RequestContext* ctx);
// SG(server_context), SG(request_info) and the auth data from ctx; status 200.
void InstallRequestInfo(RequestContext* ctx);
// Drops the SG(request_info) pointers into ctx before ctx goes away.
void ClearRequestInfo();

// How the PHP side of a request ended, for FinishResponse().
struct Verdict {
  bool bailout = false;    // CG(unclean_shutdown): a fatal error (or a timeout)
  bool timed_out = false;  // the watchdog fired
  int last_error = 0;      // PG(last_error_type)
  bool display_errors = false;
};
Verdict CurrentVerdict(bool timed_out);
// Hands the response to the writer (500/504 policy of docs/embedding-php.md section 10), unless
// ctx->responded. Returns the outcome.
Outcome FinishResponse(RequestContext* ctx, const Verdict& verdict);
// fastcgi_finish_request(): ends the output buffers, sends the headers and answers now.
void FinishRequestEarly(RequestContext* ctx);

// The wall-clock watchdog (docs/embedding-php.md section 8). writer may be nullptr.
void ArmWatchdog(ResponseWriter* writer);
bool DisarmWatchdog();  // true when it fired since Arm

const RequestSapiOptions& SapiOptions();
void SapiLog(int level, const std::string& message);

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_REQUEST_CONTEXT_H_
