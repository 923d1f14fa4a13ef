// runtime/php/request_sapi.cc: the "fpm-fcgi" SAPI of `ephpm serve` (see request_sapi.h).
//
// Rules for this file (docs/embedding-php.md section 11): a bailout is a longjmp, so no C++ object
// with a destructor may be live in a frame that a bailout crosses. The SAPI callbacks below only
// touch plain data of the request context and call the ResponseWriter (which returns before we
// call back into Zend). ExecuteRequest() keeps its C++ objects in the frame that owns the
// zend_try, which a bailout lands in rather than crosses.
#include "runtime/php/request_sapi.h"

#include <pthread.h>
#include <signal.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "runtime/ascii.h"
#include "runtime/php/engine.h"
#include "runtime/php/php_headers.h"
#include "runtime/php/request_context.h"
#include "runtime/php/request_memory.h"

namespace ephpm::php {
namespace {

// Above this much buffered output the response switches to chunked streaming on its own.
constexpr size_t kStreamThreshold = 1 << 20;

RequestContext* g_ctx = nullptr;  // PHP thread only
RequestSapiOptions g_options;
sapi_module_struct g_module;
pthread_t g_php_thread;
// Set once by CancelKvWaitsForDrain(): every request from then on starts with its waits cancelled.
std::atomic<bool> g_draining{false};

void Log(int level, const std::string& message) {
  if (g_options.log != nullptr) {
    g_options.log(level, message);
  } else {
    fprintf(stderr, "ephpm: %s\n", message.c_str());
  }
}

// ---------------------------------------------------------------------------------------------
// Watchdog (section 8)
// ---------------------------------------------------------------------------------------------

class Watchdog {
 public:
  void Start(int64_t limit_seconds, int64_t grace_seconds) {
    limit_ = limit_seconds;
    grace_ = grace_seconds;
    sigset_t old;
    BlockSignalsForHelperThread(&old);
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "ephpm-watchdog");
      Run();
    });
    RestoreSignalMask(&old);
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void Arm(ResponseWriter* writer) {
    std::lock_guard<std::mutex> lock(mu_);
    writer_ = writer;
    ++generation_;
    fired_ = false;
    armed_ = limit_ > 0;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(limit_);
    cv_.notify_all();
  }
  // Returns true when the watchdog fired for the request being disarmed.
  bool Disarm() {
    std::lock_guard<std::mutex> lock(mu_);
    writer_ = nullptr;
    armed_ = false;
    bool fired = fired_;
    fired_ = false;
    cv_.notify_all();
    return fired;
  }
  // Fires now (shutdown path): same effect as a timeout.
  void Interrupt() {
    std::lock_guard<std::mutex> lock(mu_);
    CancelKvWaits();
    if (armed_ && !fired_) Fire();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (!armed_) {
        cv_.wait(lock);
        continue;
      }
      auto now = std::chrono::steady_clock::now();
      if (!fired_) {
        if (now < deadline_) {
          cv_.wait_until(lock, deadline_);
          continue;
        }
        Fire();
        continue;
      }
      // Fired: give the PHP thread `grace_` seconds to come back.
      uint64_t gen = generation_;
      auto give_up = fired_at_ + std::chrono::seconds(grace_);
      if (now < give_up) {
        cv_.wait_until(lock, give_up);
        continue;
      }
      if (armed_ && fired_ && gen == generation_) {
        Log(4, "PHP thread did not return " + std::to_string(grace_) +
                   " s after the max_execution_time timeout; exiting so the supervisor "
                   "restarts the server");
        _exit(70);
      }
    }
  }
  // Called with mu_ held, while the request of generation_ is still armed.
  void Fire() {
    fired_ = true;
    fired_at_ = std::chrono::steady_clock::now();
    Log(2, "request exceeded max_execution_time (" + std::to_string(limit_) +
               " s); interrupting PHP");
    EG(timeout_seconds) = limit_;
    zend_atomic_bool_store(&EG(timed_out), true);
    zend_atomic_bool_store(&EG(vm_interrupt), true);
    CancelKvWaits();
    // A script blocked on a slow client (streaming high-water mark) must come back too.
    if (writer_ != nullptr) writer_->Cancel();
    pthread_kill(g_php_thread, WatchdogKickSignal());
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  ResponseWriter* writer_ = nullptr;  // the running request's writer, guarded by mu_
  int64_t limit_ = 0;
  int64_t grace_ = 10;
  uint64_t generation_ = 0;
  bool armed_ = false;
  bool fired_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point fired_at_;
};

Watchdog g_watchdog;

// ---------------------------------------------------------------------------------------------
// SAPI callbacks
// ---------------------------------------------------------------------------------------------

// Classic mode: PHP's own policy (the script stops unless ignore_user_abort). Worker mode never
// bails out here: that would end the booted application for one impatient client.
void AbortedConnection(RequestContext* ctx) {
  if (!ctx->worker) {
    php_handle_aborted_connection();
    return;
  }
  PG(connection_status) = PHP_CONNECTION_ABORTED;
  ctx->discard = true;
}

void StartStreaming(RequestContext* ctx) {
  if (!SG(headers_sent)) sapi_send_headers();
  ctx->streaming = true;
  if (!ctx->writer->StartStreaming(ctx->status, ctx->header_lines)) {
    ctx->client_gone = true;
    return;
  }
  if (!ctx->out.empty()) {
    if (!ctx->writer->StreamChunk(ctx->out)) ctx->client_gone = true;
    ctx->out.clear();
  }
}

size_t UbWrite(const char* str, size_t len) {
  RequestContext* ctx = g_ctx;
  if (ctx == nullptr || ctx->discard || ctx->responded) return len;
  if (!ctx->client_gone) {
    if (ctx->streaming) {
      if (!ctx->writer->StreamChunk(std::string_view(str, len))) ctx->client_gone = true;
    } else {
      ctx->out.append(str, len);
      if (ctx->out.size() > kStreamThreshold) StartStreaming(ctx);
    }
  }
  if (ctx->client_gone) AbortedConnection(ctx);
  return len;
}

void Flush(void* server_context) {
  RequestContext* ctx = g_ctx;
  if (ctx == nullptr || server_context == nullptr || ctx->discard || ctx->responded) return;
  if (!ctx->client_gone && !ctx->streaming) StartStreaming(ctx);
  if (ctx->client_gone) AbortedConnection(ctx);
}

int SendHeaders(sapi_headers_struct* sapi_headers) {
  RequestContext* ctx = g_ctx;
  if (ctx == nullptr) return SAPI_HEADER_SENT_SUCCESSFULLY;
  int code = sapi_headers->http_response_code;
  if (code == 0) code = 200;
  if (code < 100 || code > 999) code = 500;
  ctx->status = code;
  ctx->header_lines.clear();
  zend_llist_position pos;
  auto* h = static_cast<sapi_header_struct*>(zend_llist_get_first_ex(&sapi_headers->headers, &pos));
  while (h != nullptr) {
    ctx->header_lines.emplace_back(h->header, h->header_len);
    h = static_cast<sapi_header_struct*>(zend_llist_get_next_ex(&sapi_headers->headers, &pos));
  }
  ctx->headers_captured = true;
  return SAPI_HEADER_SENT_SUCCESSFULLY;
}

}  // namespace

size_t RequestBody::Read(uint64_t offset, char* buffer, size_t count) const {
  uint64_t left = offset < size() ? size() - offset : 0;
  size_t n = static_cast<size_t>(std::min<uint64_t>(count, left));
  if (n == 0) return 0;
  if (fd < 0) {
    memcpy(buffer, memory.data() + offset, n);
    return n;
  }
  ssize_t got;
  do {
    got = pread(fd, buffer, n, static_cast<off_t>(offset));
  } while (got < 0 && errno == EINTR);
  return got > 0 ? static_cast<size_t>(got) : 0;
}

namespace {

size_t ReadPost(char* buffer, size_t count) {
  RequestContext* ctx = g_ctx;
  if (ctx == nullptr) return 0;
  size_t n = ctx->info->body.Read(ctx->body_read, buffer, count);
  ctx->body_read += n;
  return n;
}

char* ReadCookies() {
  RequestContext* ctx = g_ctx;
  if (ctx == nullptr || ctx->cookies.empty()) return nullptr;
  return ctx->cookies.data();
}

void RegisterSafe(const char* name, const std::string& value, zval* arr) {
  size_t new_len = 0;
  char* val = estrndup(value.data(), value.size());
  if (sapi_module.input_filter(PARSE_SERVER, name, &val, value.size(), &new_len)) {
    php_register_variable_safe(name, val, new_len, arr);
  }
  efree(val);
}

void RegisterServerVariables(zval* arr) {
  RequestContext* ctx = g_ctx;
  php_import_environment_variables(arr);
  if (ctx == nullptr) return;
  const RequestInfo& r = *ctx->info;
  // HTTP_* first (so the fixed CGI keys below win over a spoofing header such as "Script-Name"
  // — which could not collide anyway, since all of them get the HTTP_ prefix).
  std::vector<std::pair<std::string, std::string>> merged;
  for (const auto& [name, value] : r.headers) {
    if (name.find('_') != std::string::npos) continue;  // Foo_Bar would spoof HTTP_FOO_BAR
    if (AsciiIEquals(name, "content-type") || AsciiIEquals(name, "content-length")) continue;
    std::string key = "HTTP_";
    for (char c : name) {
      key += c == '-' ? '_' : static_cast<char>(toupper(static_cast<unsigned char>(c)));
    }
    bool found = false;
    for (auto& m : merged) {
      if (m.first == key) {
        m.second += HeaderJoinSeparator(name);
        m.second += value;
        found = true;
        break;
      }
    }
    if (!found) merged.emplace_back(std::move(key), value);
  }
  for (const auto& [key, value] : merged) RegisterSafe(key.c_str(), value, arr);

  auto fixed = [arr](const char* name, const std::string& value) {
    php_register_variable_safe(name, value.c_str(), value.size(), arr);
  };
  fixed("SERVER_SOFTWARE", g_options.server_software);
  fixed("GATEWAY_INTERFACE", "CGI/1.1");
  fixed("REQUEST_SCHEME", "http");
  fixed("SERVER_PROTOCOL", r.protocol);
  fixed("SERVER_NAME", r.server_name);
  fixed("SERVER_PORT", r.server_port);
  fixed("SERVER_ADDR", r.server_addr);
  fixed("REMOTE_ADDR", r.remote_addr);
  fixed("REMOTE_PORT", r.remote_port);
  fixed("DOCUMENT_ROOT", r.document_root);
  fixed("REQUEST_METHOD", r.method);
  fixed("REQUEST_URI", r.request_uri);
  fixed("QUERY_STRING", r.query_string);
  fixed("SCRIPT_FILENAME", r.script_filename);
  fixed("SCRIPT_NAME", r.script_name);
  fixed("PATH_INFO", r.path_info);
  fixed("PHP_SELF", r.script_name + r.path_info);
  if (!r.path_info.empty()) fixed("PATH_TRANSLATED", r.document_root + r.path_info);
  if (!ctx->content_type.empty()) fixed("CONTENT_TYPE", ctx->content_type);
  if (r.has_body) fixed("CONTENT_LENGTH", std::to_string(r.body.size()));
  fixed("REDIRECT_STATUS", "200");
  if (ctx->worker) fixed("EPHPM_WORKER", "1");
}

void LogMessage(const char* message, int syslog_type) {
  int level = 1;
  switch (syslog_type) {
    case LOG_EMERG:
    case LOG_ALERT:
    case LOG_CRIT: level = 4; break;
    case LOG_ERR: level = 3; break;
    case LOG_WARNING: level = 2; break;
    case LOG_DEBUG: level = 0; break;
    default: level = 1;
  }
  Log(level, std::string("php: ") + message);
}

zend_result GetRequestTime(double* request_time) {
  RequestContext* ctx = g_ctx;
  if (ctx == nullptr) return FAILURE;
  *request_time = ctx->info->request_time;
  return SUCCESS;
}

void FillModule() {
  memset(&g_module, 0, sizeof g_module);
  g_module.name = const_cast<char*>("fpm-fcgi");
  g_module.pretty_name = const_cast<char*>("ephpm (FastCGI-compatible request SAPI)");
  g_module.ub_write = UbWrite;
  g_module.flush = Flush;
  g_module.sapi_error = php_error;
  g_module.send_headers = SendHeaders;
  g_module.read_post = ReadPost;
  g_module.read_cookies = ReadCookies;
  g_module.register_server_variables = RegisterServerVariables;
  g_module.log_message = LogMessage;
  g_module.get_request_time = GetRequestTime;
}

bool IsFatal(int type) {
  return (type & (E_ERROR | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR |
                  E_PARSE)) != 0;
}

// Runs the PHP part of a request. Only plain data lives in this frame across the zend_try.
void RunScript(RequestContext* ctx, bool* startup_failed, bool* bailout, int* last_error,
               bool* display_errors, bool* shutdown_bailout) {
  const RequestInfo& r = *ctx->info;
  zend_file_handle file;
  *startup_failed = false;
  zend_first_try {
    if (php_request_startup() == FAILURE) {
      *startup_failed = true;
    } else {
      zend_stream_init_filename(&file, r.script_filename.c_str());
      file.primary_script = 1;
      php_execute_script(&file);
      zend_destroy_file_handle(&file);
    }
  }
  zend_end_try();
  *bailout = CG(unclean_shutdown) != 0;
  *last_error = PG(last_error_type);
  *display_errors = PG(display_errors) != 0;
  RecordRequestMemory();  // before shutdown frees it (request_memory.h)
  *shutdown_bailout = false;
  zend_try { php_request_shutdown(nullptr); }
  zend_catch { *shutdown_bailout = true; }
  zend_end_try();
}

// Requests in a row whose start-up failed or whose shutdown bailed out (docs/embedding-php.md
// section 10): the interpreter is then suspect; after kMaxSuspect of them the process exits so
// the supervisor starts a fresh one.
constexpr int kMaxSuspect = 3;
int g_suspect_in_a_row = 0;

}  // namespace

bool RequestSapiStartup(const RequestSapiOptions& options, std::string* error) {
  g_options = options;
  g_php_thread = pthread_self();
  FillModule();
  EngineOptions eo;
  eo.hardcoded_ini = ServeHardcodedIni();
  eo.ini_overrides = IniLines(options);
  eo.ini_path = options.ini_file;
  eo.kv_store = options.kv_store;
  if (!EngineStartup(&g_module, eo, error)) return false;
  if (options.start_watchdog) {
    g_watchdog.Start(options.max_execution_time, options.watchdog_grace_seconds);
  }
  return true;
}

void RequestSapiStartWorker(int64_t max_execution_time) {
  g_php_thread = pthread_self();
  g_options.max_execution_time = max_execution_time;
  g_watchdog.Start(g_options.max_execution_time, g_options.watchdog_grace_seconds);
}

void RequestSapiShutdown() {
  g_watchdog.Stop();
  EngineShutdown();
}

void InterruptRunningRequest() { g_watchdog.Interrupt(); }

void CancelKvWaitsForDrain() {
  g_draining.store(true);
  CancelKvWaits();
}

Outcome ExecuteRequest(const RequestInfo& info, ResponseWriter* writer) {
  RequestContext ctx;
  ctx.info = &info;
  ctx.writer = writer;
  PrepareContext(&ctx);
  g_ctx = &ctx;
  BeginRequest();
  // After BeginRequest() re-armed the waits: a drain that started meanwhile has set g_draining
  // before it cancelled, so one of the two cancellations is the last write.
  CancelKvWaitsIfDraining();
  InstallRequestInfo(&ctx);

  g_watchdog.Arm(writer);
  bool startup_failed = false, bailout = false;
  int last_error = 0;
  bool display_errors = false;
  bool shutdown_bailout = false;
  RunScript(&ctx, &startup_failed, &bailout, &last_error, &display_errors, &shutdown_bailout);
  bool timed_out = g_watchdog.Disarm();
  ClearRequestInfo();
  g_ctx = nullptr;

  if (startup_failed) Log(3, "php_request_startup failed for " + info.script_filename);
  if (shutdown_bailout) Log(3, "a fatal error escaped php_request_shutdown for " + info.script_filename);
  if (startup_failed || shutdown_bailout) {
    if (++g_suspect_in_a_row >= kMaxSuspect) {
      Log(4, "PHP failed to start or shut down " + std::to_string(kMaxSuspect) +
                 " requests in a row; exiting so the supervisor restarts the server");
      _exit(70);
    }
  } else {
    g_suspect_in_a_row = 0;
  }
  Verdict verdict;
  verdict.bailout = bailout || startup_failed;
  verdict.timed_out = timed_out;
  verdict.last_error = last_error;
  verdict.display_errors = display_errors;
  return FinishResponse(&ctx, verdict);
}

RequestContext*& CurrentContext() { return g_ctx; }

void PrepareContext(RequestContext* ctx) {
  ctx->cookies.clear();
  ctx->content_type.clear();
  ctx->authorization = nullptr;
  for (const auto& [name, value] : ctx->info->headers) {
    if (AsciiIEquals(name, "cookie")) {
      if (!ctx->cookies.empty()) ctx->cookies += "; ";
      for (char c : value) {
        if (c != '\0') ctx->cookies += c;
      }
    } else if (AsciiIEquals(name, "content-type") && ctx->content_type.empty()) {
      ctx->content_type = value;
    } else if (AsciiIEquals(name, "authorization") && ctx->authorization == nullptr) {
      ctx->authorization = value.c_str();
    }
  }
}

void InstallRequestInfo(RequestContext* ctx) {
  const RequestInfo& info = *ctx->info;
  SG(server_context) = ctx;
  SG(sapi_headers).http_response_code = 200;
  SG(request_info).request_method = info.method.c_str();
  SG(request_info).query_string = const_cast<char*>(info.query_string.c_str());
  SG(request_info).request_uri = const_cast<char*>(info.request_uri.c_str());
  SG(request_info).path_translated = const_cast<char*>(info.script_filename.c_str());
  SG(request_info).content_type = ctx->content_type.empty() ? nullptr : ctx->content_type.c_str();
  SG(request_info).content_length = static_cast<zend_long>(info.body.size());
  SG(request_info).proto_num = info.proto_num;
  php_handle_auth_data(ctx->authorization);
}

void ClearRequestInfo() {
  SG(server_context) = nullptr;
  SG(request_info).request_method = nullptr;
  SG(request_info).query_string = nullptr;
  SG(request_info).request_uri = nullptr;
  SG(request_info).path_translated = nullptr;
  SG(request_info).content_type = nullptr;
}

Verdict CurrentVerdict(bool timed_out) {
  Verdict v;
  v.bailout = CG(unclean_shutdown) != 0;
  v.timed_out = timed_out;
  v.last_error = PG(last_error_type);
  v.display_errors = PG(display_errors) != 0;
  return v;
}

Outcome FinishResponse(RequestContext* ctx, const Verdict& verdict) {
  Outcome outcome = Outcome::kOk;
  if (verdict.timed_out) {
    outcome = Outcome::kTimeout;
  } else if (verdict.bailout) {
    outcome = Outcome::kError;
  }
  if (ctx->responded) return outcome;
  ctx->responded = true;
  if (ctx->streaming) {
    ctx->writer->EndStream(outcome == Outcome::kOk);
    return outcome;
  }
  if (outcome == Outcome::kTimeout) {
    // The timeout keeps PHP's error page when display_errors printed one.
    std::string body = ctx->out.empty() ? "504 Gateway Timeout\n" : std::move(ctx->out);
    ctx->writer->Complete(504, {"Content-Type: text/html; charset=UTF-8"}, std::move(body));
    return outcome;
  }
  if (outcome == Outcome::kError) {
    // A bailout: 500, and the partial body is dropped unless display_errors shows the error.
    if (verdict.display_errors && !ctx->out.empty()) {
      ctx->writer->Complete(500, {"Content-Type: text/html; charset=UTF-8"}, std::move(ctx->out));
    } else {
      ctx->writer->Complete(500, {"Content-Type: text/plain; charset=UTF-8"},
                            "500 Internal Server Error\n");
    }
    return outcome;
  }
  int status = ctx->headers_captured ? ctx->status : 200;
  if (IsFatal(verdict.last_error) && (status == 200 || status == 500)) {
    // Fatal without a bailout (uncaught exception): 500 unless the script chose another
    // status; the partial body is dropped unless display_errors shows the error.
    outcome = Outcome::kError;
    if (!verdict.display_errors) {
      ctx->writer->Complete(500, {"Content-Type: text/plain; charset=UTF-8"},
                            "500 Internal Server Error\n");
      return outcome;
    }
    status = 500;
  }
  ctx->writer->Complete(status, std::move(ctx->header_lines), std::move(ctx->out));
  return outcome;
}

void FinishRequestEarly(RequestContext* ctx) {
  if (ctx->responded || ctx->discard) return;
  php_output_end_all();
  if (!SG(headers_sent)) sapi_send_headers();
  int status = ctx->headers_captured ? ctx->status : 200;
  ctx->responded = true;
  if (ctx->streaming) {
    ctx->writer->EndStream(true);
  } else {
    ctx->writer->Complete(status, std::move(ctx->header_lines), std::move(ctx->out));
  }
}

void ArmWatchdog(ResponseWriter* writer) { g_watchdog.Arm(writer); }

void CancelKvWaitsIfDraining() {
  if (g_draining.load()) CancelKvWaits();
}
bool DisarmWatchdog() { return g_watchdog.Disarm(); }
const RequestSapiOptions& SapiOptions() { return g_options; }
void SapiLog(int level, const std::string& message) { Log(level, message); }

}  // namespace ephpm::php
