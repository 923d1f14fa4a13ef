// runtime/php/request_sapi.h: the SAPI `ephpm serve` runs HTTP requests through (SAPI name
// "fpm-fcgi", so OPcache stays on; docs/embedding-php.md sections 2, 5, 8, 10, 12, 13).
//
// Plain C++ interface (no PHP headers), used by runtime/http. Everything except the watchdog
// runs on the one PHP thread of the process:
//
//   RequestSapiStartup()  once, after SetupProcessSignals(kServer), on the PHP thread
//   ExecuteRequest()      per request, on the PHP thread
//   RequestSapiShutdown() once, on the PHP thread
//
// The server owns the HTTP side through ResponseWriter; this layer never touches sockets. Worker
// mode (worker_sapi.h) runs its requests through the same SAPI module and ResponseWriter.
#ifndef EPHPM_RUNTIME_PHP_REQUEST_SAPI_H_
#define EPHPM_RUNTIME_PHP_REQUEST_SAPI_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/version.h"

namespace ephpm::kv {
class Store;
}

namespace ephpm::php {

// A request body as the I/O thread read it: in memory, or, above [server.request]
// body_buffer_size, in an unlinked temp file (`fd`, read with pread). `hold` keeps alive what
// must last as long as the request: the file (it closes `fd`) and the body's share of the
// process-wide count of buffered body bytes (runtime/http/body_spool.h).
struct RequestBody {
  std::string memory;
  int fd = -1;
  uint64_t file_size = 0;
  std::shared_ptr<void> hold;

  uint64_t size() const { return fd >= 0 ? file_size : memory.size(); }
  // Copies up to `count` bytes from `offset`; 0 at the end (or on a read error).
  size_t Read(uint64_t offset, char* buffer, size_t count) const;
};

// Everything $_SERVER and SG(request_info) are built from (section 13). Filled by the I/O thread.
struct RequestInfo {
  std::string method;           // REQUEST_METHOD
  std::string request_uri;      // raw target as received (REQUEST_URI)
  std::string query_string;     // raw (QUERY_STRING, always registered)
  std::string protocol;         // "HTTP/1.1"
  int proto_num = 1001;         // major*1000 + minor
  std::string script_filename;  // realpath of the script
  std::string script_name;      // URL path of the script
  std::string path_info;        // "" or "/…"
  std::string document_root;    // realpath of the document root
  std::string server_name;      // Host without port, or the listen address
  std::string server_port;      // port from Host, else the local port
  std::string server_addr;      // local socket address
  std::string remote_addr;
  std::string remote_port;
  // Request headers in arrival order, names as received. Duplicates appear several times.
  std::vector<std::pair<std::string, std::string>> headers;
  RequestBody body;  // fully read (Content-Length or de-chunked) before PHP runs
  bool has_body = false;
  double request_time = 0;  // seconds since the epoch (REQUEST_TIME_FLOAT)
};

// The HTTP side of one request. Called only on the PHP thread, in this order:
//   either  Complete()                          (buffered response, the common case)
//   or      StartStreaming() StreamChunk()* EndStream()   (after flush() or a large body)
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Status and raw "Name: value" header lines as PHP produced them.
  virtual void Complete(int status, std::vector<std::string> header_lines, std::string body) = 0;
  // Returns false when the client is gone.
  virtual bool StartStreaming(int status, std::vector<std::string> header_lines) = 0;
  // Blocks while the connection has more than a high-water mark of unsent data. false when the
  // client is gone.
  virtual bool StreamChunk(std::string_view data) = 0;
  // ok = false: the response is broken (fatal error after streaming began); the connection is
  // closed without a terminating chunk so the client sees a truncated response.
  virtual void EndStream(bool ok) = 0;
  virtual bool ClientGone() = 0;
  // Thread-safe (called by the watchdog while the request is running): from now on
  // StreamChunk() returns false at once, even while it waits for a slow client, and the
  // connection is closed after the response.
  virtual void Cancel() = 0;
};

struct RequestSapiOptions {
  ephpm::kv::Store* kv_store = nullptr;  // required
  int64_t max_execution_time = 30;       // wall-clock seconds, 0 = unlimited
  std::string memory_limit = "128M";
  std::vector<std::string> ini_overrides;  // "key=value", after the hard-coded INI
  std::string ini_file;                    // "" = Debian's embed php.ini
  uint64_t post_max_size = 8ull << 20;     // mirrors [server.request] max_body_size
  std::string server_software = "ephpm/" EPHPM_VERSION;
  // Seconds the watchdog waits after a timeout for the PHP thread to come back before it gives
  // up on the interpreter and terminates the process (exit code 70) for the supervisor.
  int64_t watchdog_grace_seconds = 10;
  // Log sink (PHP's log_message, watchdog events); level: 0 debug, 1 info, 2 warning, 3 error,
  // 4 critical. nullptr = stderr. Called on the PHP thread and the watchdog thread.
  void (*log)(int level, const std::string& message) = nullptr;
  // false: RequestSapiStartup() leaves the process thread-free (no watchdog thread), so a
  // prefork master can fork workers after module startup; each worker then calls
  // RequestSapiStartWorker() on its PHP thread.
  bool start_watchdog = true;
};

enum class Outcome {
  kOk,        // normal completion (including exit())
  kError,     // fatal error: 500 was sent (or the stream was aborted)
  kTimeout,   // watchdog fired: 504 was sent (or the stream was aborted)
};

// Starts PHP (EngineStartup with our module) and the watchdog thread.
bool RequestSapiStartup(const RequestSapiOptions& options, std::string* error);
// In a worker forked after RequestSapiStartup(start_watchdog = false): makes the calling thread
// the PHP thread and starts the watchdog thread with this max_execution_time (the config the
// worker was forked with, which a reload may have changed). Call once, before the first request.
void RequestSapiStartWorker(int64_t max_execution_time);

// The INI lines module start-up gets from `options` ("name=value"; memory_limit, post_max_size,
// then [php.ini] in order; the last of a name wins).
std::vector<std::string> IniLines(const RequestSapiOptions& options);

// In a worker forked after a reload, before RequestSapiStartWorker(): gives every INI directive
// whose value in `options` differs from module start-up's that value, as php-fpm applies a
// pool's php_admin_value in its children (docs/embedding-php.md section 6). A directive PHP
// does not know is skipped (it was only a get_cfg_var() value at start-up too); one whose
// handler refuses the value (read only at module start-up) keeps its value, with a warning.
void ApplyIniChanges(const RequestSapiOptions& options);
// Runs one request to completion; the writer has received its response when this returns.
Outcome ExecuteRequest(const RequestInfo& request, ResponseWriter* writer);
// Stops the watchdog, shuts PHP down.
void RequestSapiShutdown();

// Thread-safe: ends a blocked ephpm_kv_wait and interrupts sleep() in the running request
// (used by the shutdown path after the drain deadline).
void InterruptRunningRequest();

// Thread-safe (the drain, runtime/http/worker.cc): a blocked ephpm_kv_wait returns false within
// 50 ms, and every later one at once, for the rest of the process's life, so a long poll cannot
// hold the drain. The running script is not interrupted otherwise.
void CancelKvWaitsForDrain();

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_REQUEST_SAPI_H_
