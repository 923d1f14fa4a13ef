// runtime/php/worker_sapi.cc: worker mode's lifecycle (see worker_sapi.h, worker_internal.h and
// docs/worker-mode.md).
//
// The worker script runs as ONE php_request_startup() ... php_request_shutdown(), so its
// executor state (classes, objects, statics, globals) survives between HTTP requests. Each HTTP
// request is a "layer" inside it, modelled on what php_request_startup/shutdown do for the SAPI
// and output parts only: sapi_activate + php_output_activate + fresh superglobals at the start;
// output buffers ended, session written and reset, headers sent, sapi_deactivate (uploaded temp
// files deleted), php://input streams released and INI changes undone at the end.
//
// A fatal error, a timeout or exit() inside a handler unwinds the whole script (a bailout lands
// in php_execute_script(), whose caller RunBootFrame() owns the only zend_try); the request in
// flight is then answered after php_request_shutdown(), exactly as in classic mode, and the
// caller boots the script again. Bailout rules (docs/embedding-php.md section 11): frames that a
// bailout can cross hold no C++ object with a destructor; the state lives in g_w.
#include "runtime/php/worker_sapi.h"

#include <chrono>
#include <memory>
#include <string>

#include "runtime/php/engine.h"
#include "runtime/php/php_headers.h"
#include "runtime/php/request_context.h"
#include "runtime/php/worker_internal.h"

extern "C" {
#include "ext/session/php_session.h"
}

namespace ephpm::php {
namespace {

// Swallows everything: the writer of the idle context (boot output, output between requests).
class NullWriter final : public ResponseWriter {
 public:
  void Complete(int, std::vector<std::string>, std::string) override {}
  bool StartStreaming(int, std::vector<std::string>) override { return true; }
  bool StreamChunk(std::string_view) override { return true; }
  void EndStream(bool) override {}
  bool ClientGone() override { return false; }
  void Cancel() override {}
};

struct WorkerState {
  WorkerRequestSource* source = nullptr;
  void (*on_booted)(void*) = nullptr;
  void* on_booted_arg = nullptr;
  RequestInfo idle_info;
  RequestContext idle;
  RequestContext current;
  bool booted = false;     // the script asked for its first request
  bool in_flight = false;  // `current` is being served
  bool stopping = false;
  bool fault = false;      // an uncaught exception ended the loop
  bool in_handler = false;
  uint64_t generation = 0;
  uint64_t served = 0;
  std::string reason;
  HashTable* boot_ini = nullptr;  // INI values as the boot left them (request heap)
};

WorkerState* g_w = nullptr;  // non-null while RunWorkerScript() runs
NullWriter g_null_writer;

// Plain results of the boot frame (no destructors: it lives across the zend_try).
struct BootFrame {
  bool startup_failed = false;
  bool shutdown_bailout = false;
  bool timed_out = false;
  Verdict verdict;
};

// ---------------------------------------------------------------------------------------------
// Helpers without Zend calls (may own C++ temporaries)
// ---------------------------------------------------------------------------------------------

void ResetCurrent(WorkerState* w, const RequestInfo* info, ResponseWriter* writer) {
  w->current = RequestContext();
  w->current.info = info;
  w->current.writer = writer;
  w->current.worker = true;
  PrepareContext(&w->current);
}

void CaptureReason(WorkerState* w) {
  if (PG(last_error_message) == nullptr) return;
  w->reason.assign(ZSTR_VAL(PG(last_error_message)), ZSTR_LEN(PG(last_error_message)));
  if (PG(last_error_file) != nullptr) {
    w->reason += " in ";
    w->reason.append(ZSTR_VAL(PG(last_error_file)), ZSTR_LEN(PG(last_error_file)));
    w->reason += ":" + std::to_string(PG(last_error_lineno));
  }
}

// ---------------------------------------------------------------------------------------------
// Per-request resets (Zend calls)
// ---------------------------------------------------------------------------------------------

void ClearLastError() {
  if (PG(last_error_message) != nullptr) {
    zend_string_release(PG(last_error_message));
    PG(last_error_message) = nullptr;
  }
  if (PG(last_error_file) != nullptr) {
    zend_string_release(PG(last_error_file));
    PG(last_error_file) = nullptr;
  }
  PG(last_error_type) = 0;
  PG(last_error_lineno) = 0;
}

// What php_request_startup() does for the SAPI and output parts.
void ActivateLayer(bool request) {
  php_output_activate();
  PG(header_is_being_sent) = 0;
  PG(connection_status) = PHP_CONNECTION_NORMAL;
  sapi_activate();
  SG(sapi_started) = 1;
  SG(sapi_headers).http_response_code = 200;
  if (!request) return;
  if (PG(expose_php)) {
    sapi_add_header(SAPI_PHP_VERSION_HEADER, sizeof(SAPI_PHP_VERSION_HEADER) - 1, 1);
  }
  if (PG(output_handler) != nullptr && PG(output_handler)[0] != '\0') {
    zval handler;
    ZVAL_STRING(&handler, PG(output_handler));
    php_output_start_user(&handler, 0, PHP_OUTPUT_HANDLER_STDFLAGS);
    zval_ptr_dtor(&handler);
  } else if (PG(output_buffering)) {
    php_output_start_user(nullptr, PG(output_buffering) > 1 ? PG(output_buffering) : 0,
                          PHP_OUTPUT_HANDLER_STDFLAGS);
  } else if (PG(implicit_flush)) {
    php_output_set_implicit_flush(1);
  }
}

void DeactivateLayer() {
  php_output_end_all();
  php_output_deactivate();
  sapi_deactivate();
}

// ext/filter keeps its own copies of the request arrays (filter_input()); reset them as its
// RSHUTDOWN/RINIT would.
void CycleFilterModule(bool startup) {
  auto* module =
      static_cast<zend_module_entry*>(zend_hash_str_find_ptr(&module_registry, "filter", 6));
  if (module == nullptr) return;
  if (startup && module->request_startup_func != nullptr) {
    module->request_startup_func(module->type, module->module_number);
  } else if (!startup && module->request_shutdown_func != nullptr) {
    module->request_shutdown_func(module->type, module->module_number);
  }
}

// $_GET, $_POST, $_COOKIE, $_FILES, $_SERVER (and $_REQUEST when used) from this request;
// $_SESSION removed; $_ENV kept (the environment does not change).
void RebuildSuperglobals() {
  zval* files = &PG(http_globals)[TRACK_VARS_FILES];
  zval_ptr_dtor_nogc(files);
  ZVAL_UNDEF(files);
  zend_hash_str_del(&EG(symbol_table), "_SESSION", sizeof("_SESSION") - 1);
  zend_string* env = ZSTR_KNOWN(ZEND_STR_AUTOGLOBAL_ENV);
  zend_string* server = ZSTR_KNOWN(ZEND_STR_AUTOGLOBAL_SERVER);
  zend_string* request = ZSTR_KNOWN(ZEND_STR_AUTOGLOBAL_REQUEST);
  void* ptr;
  ZEND_HASH_FOREACH_PTR(CG(auto_globals), ptr) {
    auto* ag = static_cast<zend_auto_global*>(ptr);
    if (zend_string_equals(ag->name, env)) continue;
    if (zend_string_equals(ag->name, server)) {
      ag->armed = ag->auto_global_callback(ag->name);
    } else if (ag->jit) {
      // $_REQUEST only when the application uses it (it is in the symbol table); $GLOBALS never.
      if (zend_string_equals(ag->name, request) && zend_hash_exists(&EG(symbol_table), ag->name)) {
        ag->armed = ag->auto_global_callback(ag->name);
      }
    } else if (ag->auto_global_callback != nullptr) {
      ag->armed = ag->auto_global_callback(ag->name);
    } else {
      ag->armed = 0;
    }
  }
  ZEND_HASH_FOREACH_END();
}

// Writes and closes a session the handler left open, then clears the session module's
// per-request state (id, data, status) so the next request starts without one. User save
// handlers (session_set_save_handler) are application state and stay.
void ResetSession() {
  if (PS(session_status) == php_session_active) php_session_flush(1);
  if (!Z_ISUNDEF(PS(http_session_vars))) {
    zval_ptr_dtor(&PS(http_session_vars));
    ZVAL_UNDEF(&PS(http_session_vars));
  }
  if (PS(mod_data) != nullptr && PS(mod) != nullptr) PS(mod)->s_close(&PS(mod_data));
  PS(mod_data) = nullptr;
  if (PS(id) != nullptr) {
    zend_string_release_ex(PS(id), 0);
    PS(id) = nullptr;
  }
  if (PS(session_vars) != nullptr) {
    zend_string_release_ex(PS(session_vars), 0);
    PS(session_vars) = nullptr;
  }
  PS(session_status) = php_session_none;
  PS(in_save_handler) = 0;
  PS(set_handler) = 0;
  PS(mod_user_is_open) = 0;
  PS(define_sid) = 1;
}

// php://input keeps the body in a temp stream registered in EG(regular_list); without a request
// shutdown nobody frees it.
void ReleaseTempStreams() {
  int stream_type = php_file_le_stream();
  void* ptr;
  ZEND_HASH_FOREACH_PTR(&EG(regular_list), ptr) {
    auto* res = static_cast<zend_resource*>(ptr);
    if (res->type != stream_type) continue;
    auto* stream = static_cast<php_stream*>(res->ptr);
    if (stream != nullptr && stream->ops == &php_stream_temp_ops && !stream->__exposed &&
        GC_REFCOUNT(res) == 1) {
      zend_list_delete(res);
    }
  }
  ZEND_HASH_FOREACH_END();
}

void SnapshotBootIni(WorkerState* w) {
  w->boot_ini = static_cast<HashTable*>(emalloc(sizeof(HashTable)));
  zend_hash_init(w->boot_ini, 8, nullptr, ZVAL_PTR_DTOR, 0);
  if (EG(modified_ini_directives) == nullptr) return;
  zend_string* name;
  void* ptr;
  ZEND_HASH_FOREACH_STR_KEY_PTR(EG(modified_ini_directives), name, ptr) {
    auto* entry = static_cast<zend_ini_entry*>(ptr);
    zval value;
    if (entry->value != nullptr) {
      ZVAL_STR_COPY(&value, entry->value);
    } else {
      ZVAL_NULL(&value);
    }
    zend_hash_update(w->boot_ini, name, &value);
  }
  ZEND_HASH_FOREACH_END();
}

bool SameAsBoot(WorkerState* w, zend_string* name, zend_ini_entry* entry) {
  zval* boot = zend_hash_find(w->boot_ini, name);
  if (boot == nullptr) return false;
  if (Z_TYPE_P(boot) == IS_NULL) return entry->value == nullptr;
  return entry->value != nullptr && zend_string_equals(entry->value, Z_STR_P(boot));
}

// Undoes the INI changes of a request (ini_set, set_time_limit, ignore_user_abort,
// session_set_cookie_params, ...): back to the value the boot left.
void RestoreIni(WorkerState* w) {
  constexpr int kBatch = 32;
  for (int pass = 0; pass < 4 && EG(modified_ini_directives) != nullptr; ++pass) {
    zend_string* names[kBatch];
    int n = 0;
    bool more = false;
    zend_string* name;
    void* ptr;
    ZEND_HASH_FOREACH_STR_KEY_PTR(EG(modified_ini_directives), name, ptr) {
      if (SameAsBoot(w, name, static_cast<zend_ini_entry*>(ptr))) continue;
      if (n == kBatch) {
        more = true;
        break;
      }
      names[n++] = zend_string_copy(name);
    }
    ZEND_HASH_FOREACH_END();
    for (int i = 0; i < n; ++i) {
      zval* boot = zend_hash_find(w->boot_ini, names[i]);
      if (boot != nullptr && Z_TYPE_P(boot) == IS_STRING) {
        zend_alter_ini_entry_ex(names[i], Z_STR_P(boot), PHP_INI_SYSTEM, PHP_INI_STAGE_RUNTIME, 1);
      } else {
        zend_restore_ini_entry(names[i], PHP_INI_STAGE_RUNTIME);
      }
      zend_string_release(names[i]);
    }
    if (!more) return;
  }
}

// ---------------------------------------------------------------------------------------------
// The boot frame: the only zend_try of a worker run
// ---------------------------------------------------------------------------------------------

void RunBootFrame(const char* filename, BootFrame* frame) {
  zend_file_handle file;
  zend_first_try {
    if (php_request_startup() == FAILURE) {
      frame->startup_failed = true;
    } else {
      zend_stream_init_filename(&file, filename);
      file.primary_script = 1;
      php_execute_script(&file);
      zend_destroy_file_handle(&file);
    }
  }
  zend_end_try();
  frame->verdict = CurrentVerdict(false);
  CaptureReason(g_w);
  if (g_w->boot_ini != nullptr) {
    zend_hash_destroy(g_w->boot_ini);
    efree(g_w->boot_ini);
    g_w->boot_ini = nullptr;
  }
  zend_try { php_request_shutdown(nullptr); }
  zend_catch { frame->shutdown_bailout = true; }
  zend_end_try();
  frame->timed_out = DisarmWatchdog();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// worker_internal.h
// ---------------------------------------------------------------------------------------------

bool WorkerActive() { return g_w != nullptr; }
bool WorkerInFlight() { return g_w != nullptr && g_w->in_flight; }
bool WorkerStopping() { return g_w == nullptr || g_w->stopping; }
bool WorkerInHandler() { return g_w != nullptr && g_w->in_handler; }
void WorkerSetInHandler(bool in_handler) {
  if (g_w != nullptr) g_w->in_handler = in_handler;
}
uint64_t WorkerGeneration() { return g_w == nullptr ? 0 : g_w->generation; }
const RequestInfo* WorkerRequest() { return WorkerInFlight() ? g_w->current.info : nullptr; }
RequestContext* WorkerContext() { return WorkerInFlight() ? &g_w->current : nullptr; }

bool WorkerBeginRequest() {
  WorkerState* w = g_w;
  if (w->stopping) return false;
  if (!w->booted) {
    w->booted = true;
    DisarmWatchdog();  // the boot is over
    SnapshotBootIni(w);
    if (w->on_booted != nullptr) w->on_booted(w->on_booted_arg);
  }
  const RequestInfo* info = nullptr;
  ResponseWriter* writer = nullptr;
  if (!w->source->Next(&info, &writer)) {
    w->stopping = true;
    return false;
  }
  DeactivateLayer();
  ResetCurrent(w, info, writer);
  CurrentContext() = &w->current;
  w->in_flight = true;
  ++w->generation;
  ClearLastError();
  ResetKvWaitCancel();
  InstallRequestInfo(&w->current);
  ArmWatchdog(writer);
  ActivateLayer(true);
  CycleFilterModule(true);
  RebuildSuperglobals();
  return true;
}

void WorkerEndRequest() {
  WorkerState* w = g_w;
  php_output_end_all();
  ResetSession();
  CycleFilterModule(false);
  php_output_deactivate();
  bool timed_out = DisarmWatchdog();
  Outcome outcome = FinishResponse(&w->current, CurrentVerdict(timed_out));
  sapi_deactivate();
  ReleaseTempStreams();
  w->in_flight = false;
  w->source->Done(outcome);
  ++w->served;
  RestoreIni(w);
  ClearLastError();
  CurrentContext() = &w->idle;
  InstallRequestInfo(&w->idle);
  ActivateLayer(false);
}

void WorkerFailRequest() {
  CaptureReason(g_w);
  WorkerEndRequest();
  g_w->stopping = true;
  g_w->fault = true;
}

// ---------------------------------------------------------------------------------------------
// worker_sapi.h
// ---------------------------------------------------------------------------------------------

WorkerRun RunWorkerScript(const WorkerScript& script, WorkerRequestSource* source,
                          void (*on_booted)(void* arg), void* arg) {
  auto state = std::make_unique<WorkerState>();
  WorkerState* w = state.get();
  w->source = source;
  w->on_booted = on_booted;
  w->on_booted_arg = arg;
  RequestInfo& boot = w->idle_info;
  boot.method = "GET";
  boot.request_uri = script.script_name;
  boot.protocol = "HTTP/1.1";
  boot.script_filename = script.script_filename;
  boot.script_name = script.script_name;
  boot.document_root = script.document_root;
  boot.server_name = script.server_name;
  boot.server_port = script.server_port;
  boot.request_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  w->idle.info = &boot;
  w->idle.writer = &g_null_writer;
  w->idle.discard = true;
  w->idle.worker = true;
  PrepareContext(&w->idle);

  g_w = w;
  CurrentContext() = &w->idle;
  BeginRequest();
  InstallRequestInfo(&w->idle);
  ArmWatchdog(nullptr);  // the boot has the same time limit as a request
  BootFrame frame;
  RunBootFrame(script.script_filename.c_str(), &frame);
  ClearRequestInfo();

  WorkerRun run;
  if (w->in_flight) {
    // A fatal error, timeout or exit() inside a handler: answer it now, as classic mode would.
    Verdict verdict = frame.verdict;
    verdict.timed_out = frame.timed_out;
    Outcome outcome = FinishResponse(&w->current, verdict);
    w->in_flight = false;
    source->Done(outcome);
    ++w->served;
    run.end = WorkerEnd::kFault;
    if (outcome == Outcome::kTimeout) {
      run.reason = "max_execution_time exceeded";
    } else if (outcome == Outcome::kOk) {
      run.end = WorkerEnd::kExit;
    } else {
      run.reason = w->reason.empty() ? "fatal error" : w->reason;
    }
  } else if (w->fault) {
    run.end = WorkerEnd::kFault;
    run.reason = w->reason.empty() ? "uncaught exception" : w->reason;
  } else if (!w->booted) {
    run.end = WorkerEnd::kBootFailed;
    if (frame.startup_failed) {
      run.reason = "php_request_startup() failed";
    } else if (frame.timed_out) {
      run.reason = "max_execution_time exceeded during the boot";
    } else if (frame.verdict.bailout ||
               (frame.verdict.last_error & (E_ERROR | E_CORE_ERROR | E_COMPILE_ERROR |
                                            E_USER_ERROR | E_RECOVERABLE_ERROR | E_PARSE))) {
      run.reason = w->reason.empty() ? "fatal error" : w->reason;
    } else {
      run.reason = "the worker script returned before calling ephpm_handle_request()";
    }
  } else {
    run.end = w->stopping ? WorkerEnd::kStopped : WorkerEnd::kReturned;
  }
  if (frame.shutdown_bailout) SapiLog(3, "a fatal error escaped php_request_shutdown of the worker script");
  run.served = w->served;
  CurrentContext() = nullptr;
  g_w = nullptr;
  return run;
}

}  // namespace ephpm::php
