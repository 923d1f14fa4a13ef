// runtime/php/engine.h: process-wide lifecycle of the embedded PHP 8.2 interpreter.
//
// This layer is shared by every SAPI ephpm runs PHP under:
//   * `ephpm php`   (runtime/php/cli.cc, SAPI name "cli")
//   * `ephpm serve` (runtime/php/request_sapi.*, SAPI name "fpm-fcgi")
// It knows nothing about argv, HTTP or output: each SAPI fills its own `sapi_module_struct`
// (callbacks, name, flags) and hands it to EngineStartup(), which does the part that must be
// identical everywhere (docs/embedding-php.md sections 2, 3, 6, 7):
//
//   zend_signal_startup() -> sapi_startup(module) -> module fields the engine owns
//   (ini_entries, php_ini_path_override, php_ini_ignore, php_ini_ignore_cwd, startup)
//   -> module->startup(module) -> php_module_startup(module, &ephpm_module_entry)
//
// The `ephpm` extension (ephpm_kv_* functions) is always the additional module, so it exists in
// every request, `extension_loaded('ephpm')` is true and Reflection shows real types.
//
// Threading (Debian's libphp8.2 is NTS): exactly one thread of the process may ever run PHP.
// EngineStartup(), every request and EngineShutdown() must run on that one thread.
//
// Nothing in this header pulls in PHP headers, so C++ code (main.cc, the HTTP server) can include
// it freely. Functions here never throw.
#ifndef EPHPM_RUNTIME_PHP_ENGINE_H_
#define EPHPM_RUNTIME_PHP_ENGINE_H_

#include <signal.h>

#include <string>
#include <vector>

struct _sapi_module_struct;  // PHP's sapi_module_struct (main/SAPI.h)

namespace ephpm::kv {
class Store;
}

namespace ephpm::php {

// ---------------------------------------------------------------------------------------------
// INI
// ---------------------------------------------------------------------------------------------

// php-cli's hard-coded INI (html_errors=0, register_argc_argv=1, implicit_flush=1,
// output_buffering=0, max_execution_time=0, max_input_time=-1). These beat php.ini.
const std::vector<std::string>& CliHardcodedIni();
// `serve`'s hard-coded INI (max_execution_time=0, max_input_time=-1, hard_timeout=0): PHP never
// arms its own CPU timer; the server's wall-clock watchdog enforces the limit (section 8).
const std::vector<std::string>& ServeHardcodedIni();

// Debian's php-cli configuration, used by `ephpm php` so extensions load exactly as under php-cli.
inline constexpr const char* kDebianCliIniFile = "/etc/php/8.2/cli/php.ini";
inline constexpr const char* kDebianCliScanDir = "/etc/php/8.2/cli/conf.d";

struct EngineOptions {
  // Hard-coded "key=value" lines (CliHardcodedIni() / ServeHardcodedIni()); they beat php.ini.
  std::vector<std::string> hardcoded_ini;
  // User overrides ("key=value" or "key"; `-d` in `ephpm php`, `[php] ini_overrides` in serve),
  // appended after hardcoded_ini, so the last one wins. A bare "key" means "key=1" (php -d).
  std::vector<std::string> ini_overrides;

  // php.ini selection, in this order:
  //  * ini_ignore = true: no php.ini and no scan directory at all (php -n).
  //  * ini_path non-empty: that file, or that directory searched for php-<sapi>.ini / php.ini
  //    (php -c; `[php] ini_file` in serve).
  //  * else PHP's compiled-in search (PHPRC, then /etc/php/8.2/embed/php.ini).
  std::string ini_path;
  bool ini_ignore = false;
  // conf.d directory to scan for extension .ini files when the environment has no
  // PHP_INI_SCAN_DIR (an empty PHP_INI_SCAN_DIR in the environment means "scan nothing" and is
  // always respected). Empty here = PHP's compiled-in /etc/php/8.2/embed/conf.d.
  // Implemented by setting PHP_INI_SCAN_DIR only during module startup, then removing it again
  // so child processes (e.g. a `php` spawned by PHPUnit) see the environment unchanged.
  std::string ini_scan_dir;

  // The store behind ephpm_kv_*. Required (a store always exists before the first line of PHP,
  // docs/kv-contract.md section 1); it must outlive EngineShutdown().
  ephpm::kv::Store* kv_store = nullptr;
};

// Starts PHP for the process. `module` must have static storage duration; the caller has filled
// `name` (final: it decides OPcache/APCu behaviour and PHP_SAPI), `pretty_name` and its callbacks
// (ub_write, flush, send_headers, read_post, read_cookies, register_server_variables,
// log_message, ini_defaults, ...). Leave `startup` NULL: the engine sets it. The engine sets
// ini_entries, php_ini_path_override, php_ini_ignore and php_ini_ignore_cwd (=1) itself.
// Remember that php_module_startup() copies `module` into PHP's global `sapi_module`; change
// callbacks there after startup.
// Returns false with *error on failure (the process should exit; PHP is in an undefined state).
// Call on the PHP thread, after SetupProcessSignals().
bool EngineStartup(_sapi_module_struct* module, const EngineOptions& options, std::string* error);

// php_module_shutdown() + sapi_shutdown() + free of the ini_entries buffer. Idempotent. Does not
// touch the store.
void EngineShutdown();

// Per-request housekeeping for request SAPIs; call on the PHP thread right before
// php_request_startup(): clears PG(last_error_*) (so an earlier request's error cannot leak into
// this one's status decision) and re-arms ephpm_kv_wait (ResetKvWaitCancel()).
void BeginRequest();

// ---------------------------------------------------------------------------------------------
// The KV binding (runtime/php/kv_functions.cc)
// ---------------------------------------------------------------------------------------------

// The process-global store used by ephpm_kv_*. EngineStartup() sets it from
// EngineOptions::kv_store.
void SetKvStore(ephpm::kv::Store* store);

// Optional: called once, on the PHP thread, the first time a PHP function creates an expiring entry
// (a TTL > 0 in set/setnx/mset/expire) or calls ephpm_kv_wait. `ephpm php` uses it to start its
// sweeper thread only when there is something to sweep (a trivial script never pays for the thread).
// The hook must be plain C++ (no Zend call) and must not throw. nullptr = none (serve).
void SetKvLazyStartHook(void (*hook)());

// Cancel flag honoured by ephpm_kv_wait (checked at least every 50 ms by Store::Wait): once set,
// a blocked or future wait returns false until ResetKvWaitCancel(). Safe to call from any thread
// (the request watchdog, the shutdown path). `serve` resets it at every request start
// (BeginRequest() does that).
void CancelKvWaits();
void ResetKvWaitCancel();

// ---------------------------------------------------------------------------------------------
// Signals (docs/embedding-php.md section 7). Call SetupProcessSignals() first thing in main(), before
// any thread exists, so the mask is inherited.
// ---------------------------------------------------------------------------------------------

enum class SignalPolicy {
  // `ephpm php`: like php-cli. SIGPIPE ignored (php-cli does this too); everything else default,
  // delivered to the PHP (main) thread. Helper threads block all async signals.
  kCli,
  // `serve`: SIGPIPE ignored; a no-op handler without SA_RESTART for WatchdogKickSignal();
  // SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 blocked in the inherited mask (receive them
  // with sigwaitinfo/signalfd on a dedicated thread). Non-PHP threads should additionally block
  // SIGPROF (BlockSignalsForHelperThread does).
  kServer,
};
void SetupProcessSignals(SignalPolicy policy);

// The reserved real-time signal the watchdog sends to the PHP thread (pthread_kill) so that
// sleep()/poll() return EINTR after EG(timed_out)/EG(vm_interrupt) were set. SIGRTMIN + 2.
int WatchdogKickSignal();

// Blocks every blockable signal in the calling thread and stores the previous mask in *old.
// Use around the creation of helper threads (sweeper, I/O threads) so they inherit a full
// mask, then RestoreSignalMask(old) on the creating thread.
void BlockSignalsForHelperThread(sigset_t* old);
void RestoreSignalMask(const sigset_t* old);

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_ENGINE_H_
