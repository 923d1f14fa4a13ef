// runtime/php/engine.cc: process-wide PHP startup/shutdown shared by every SAPI (see engine.h).
//
// Thin C-style glue: no exceptions, locks or objects with destructors live across a Zend call
// (a bailout is a longjmp). C++ containers are only touched before PHP starts or after it stops.
#include "runtime/php/engine.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "runtime/php/php_headers.h"
#include "runtime/php/kv_module.h"
#include "runtime/php/session_handler.h"

namespace ephpm::php {
namespace {

bool g_started = false;
char* g_ini_entries = nullptr;   // malloc'ed; must outlive module shutdown (section 6)
char* g_ini_override = nullptr;  // malloc'ed php_ini_path_override
sapi_module_struct* g_module = nullptr;

// The additional module is registered by php_module_startup() itself, so every SAPI gets the
// `ephpm` extension the same way (docs/embedding-php.md section 3).
int EngineModuleStartup(sapi_module_struct* module) {
  zend_module_entry* ephpm_module = EphpmModuleEntry();
  InstallSessionHandler(ephpm_module);  // session.save_handler = ephpm
  return php_module_startup(module, ephpm_module) == SUCCESS ? SUCCESS : FAILURE;
}

// "key" means "key=1" (php -d semantics). Lines are otherwise passed through verbatim: callers
// that take values from users (cli -d) quote them the way php-cli does.
void AppendIniLine(std::string* out, const std::string& line) {
  if (line.empty()) return;
  out->append(line);
  if (line.find('=') == std::string::npos) out->append("=1");
  out->push_back('\n');
}

}  // namespace

const std::vector<std::string>& CliHardcodedIni() {
  static const std::vector<std::string> ini = {
      "html_errors=0",       "register_argc_argv=1", "implicit_flush=1",
      "output_buffering=0",  "max_execution_time=0", "max_input_time=-1",
  };
  return ini;
}

const std::vector<std::string>& ServeHardcodedIni() {
  static const std::vector<std::string> ini = {
      "max_execution_time=0",
      "max_input_time=-1",
      "hard_timeout=0",
  };
  return ini;
}

bool EngineStartup(sapi_module_struct* module, const EngineOptions& options, std::string* error) {
  if (g_started) {
    *error = "PHP engine already started";
    return false;
  }
  if (options.kv_store == nullptr) {
    *error = "PHP engine: no key-value store given";
    return false;
  }
  SetKvStore(options.kv_store);

  // Build every buffer before PHP runs, so nothing below can throw.
  std::string ini;
  for (const std::string& line : options.hardcoded_ini) AppendIniLine(&ini, line);
  for (const std::string& line : options.ini_overrides) AppendIniLine(&ini, line);
  g_ini_entries = static_cast<char*>(malloc(ini.size() + 1));
  if (g_ini_entries == nullptr) {
    *error = "out of memory";
    return false;
  }
  memcpy(g_ini_entries, ini.data(), ini.size());
  g_ini_entries[ini.size()] = '\0';
  if (!options.ini_path.empty()) g_ini_override = strdup(options.ini_path.c_str());

  // PHP_INI_SCAN_DIR is read by php_init_config() during module startup. Set it only for that
  // moment, and only when the user has not set it (an empty value means "scan nothing").
  bool scan_dir_set_by_us = false;
  if (!options.ini_scan_dir.empty() && getenv("PHP_INI_SCAN_DIR") == nullptr) {
    setenv("PHP_INI_SCAN_DIR", options.ini_scan_dir.c_str(), 1);
    scan_dir_set_by_us = true;
  }

  zend_signal_startup();
  sapi_startup(module);  // copies nothing yet; resets module->ini_entries
  module->ini_entries = g_ini_entries;
  module->php_ini_path_override = g_ini_override;
  module->php_ini_ignore = options.ini_ignore ? 1 : 0;
  module->php_ini_ignore_cwd = 1;
  module->startup = EngineModuleStartup;
  g_module = module;

  int rc = module->startup(module);
  if (scan_dir_set_by_us) unsetenv("PHP_INI_SCAN_DIR");
  if (rc == FAILURE) {
    *error = "PHP module startup failed";
    sapi_shutdown();
    free(g_ini_entries);
    g_ini_entries = nullptr;
    free(g_ini_override);
    g_ini_override = nullptr;
    g_module = nullptr;
    return false;
  }
  g_started = true;
  return true;
}

void EngineShutdown() {
  if (!g_started) return;
  g_started = false;
  php_module_shutdown();
  sapi_shutdown();
  free(g_ini_entries);
  g_ini_entries = nullptr;
  free(g_ini_override);
  g_ini_override = nullptr;
  if (g_module != nullptr) {
    g_module->ini_entries = nullptr;
    g_module->php_ini_path_override = nullptr;
    g_module = nullptr;
  }
  StopTestHookThreads();
}

void BeginRequest() {
  // php_request_shutdown() already released the previous message (php_free_request_globals);
  // anything left here would belong to a freed request heap, so drop the pointers, never free.
  PG(last_error_type) = 0;
  PG(last_error_lineno) = 0;
  PG(last_error_message) = nullptr;
  PG(last_error_file) = nullptr;
  ResetKvWaitCancel();
}

// ---------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------

namespace {
void NoopSignalHandler(int) {}
}  // namespace

int WatchdogKickSignal() { return SIGRTMIN + 2; }

void SetupProcessSignals(SignalPolicy policy) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, nullptr);
  if (policy == SignalPolicy::kCli) return;

  // No SA_RESTART: the kick must make sleep()/poll() in the PHP thread return EINTR.
  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = NoopSignalHandler;
  sa.sa_flags = 0;
  sigaction(WatchdogKickSignal(), &sa, nullptr);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGQUIT);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void BlockSignalsForHelperThread(sigset_t* old) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, old);
}

void RestoreSignalMask(const sigset_t* old) { pthread_sigmask(SIG_SETMASK, old, nullptr); }

}  // namespace ephpm::php
