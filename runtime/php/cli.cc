// runtime/php/cli.cc: `ephpm php`, a php-cli emulation (docs/embedding-php.md section 16) on top of
// the shared engine (engine.h), with a real ephpm_kv store for the process lifetime.
//
// Structure: PhpCliMain() does everything C++ (argument parsing, config, store, sweeper, engine
// options) and then hands a plain-data CliPlan to RunPlan(), the only function that runs PHP
// requests. RunPlan() keeps no object with a destructor on its stack, because PHP may longjmp
// (bailout) back to the zend_try in that frame.
#include "runtime/php/cli.h"
#include "runtime/php/cli_args.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/kv/store.h"
#include "runtime/kv/sweeper.h"
#include "runtime/php/engine.h"
#include "runtime/php/php_headers.h"
#include "runtime/version.h"


// Exported by libphp but not declared in any installed header.
extern "C" {
extern char* php_ini_opened_path;
extern char* php_ini_scanned_path;
extern char* php_ini_scanned_files;
}

namespace ephpm::php {
namespace {

// ---------------------------------------------------------------------------------------------
// What to run (plain data: RunPlan must not own C++ objects)
// ---------------------------------------------------------------------------------------------

struct CliPlan {
  Mode mode = Mode::kScript;
  const char* script = nullptr;  // kScript / kLint: path as given
  const char* code = nullptr;    // kCode
  int php_argc = 0;              // $argc
  char** php_argv = nullptr;     // $argv (argv[0] = script or "Standard input code")
};

// State read by the SAPI callbacks during the request.
const char* g_php_self = "";         // PHP_SELF, SCRIPT_NAME
const char* g_script_filename = "";  // SCRIPT_FILENAME, PATH_TRANSLATED

// ---------------------------------------------------------------------------------------------
// SAPI callbacks (php-cli's behaviour)
// ---------------------------------------------------------------------------------------------

size_t CliUbWrite(const char* str, size_t len) {
  const char* p = str;
  size_t left = len;
  while (left > 0) {
    ssize_t n = write(STDOUT_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Reader gone (EPIPE; SIGPIPE is ignored): stop the script like php-cli does.
      EG(exit_status) = 255;
      php_handle_aborted_connection();
      return len - left;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return len;
}

void CliFlush(void*) {
  // Output is written unbuffered with write(2); stdio is only used for errors.
  fflush(stdout);
}

int CliHeaderHandler(sapi_header_struct*, sapi_header_op_enum, sapi_headers_struct*) { return 0; }

int CliSendHeaders(sapi_headers_struct*) { return SAPI_HEADER_SENT_SUCCESSFULLY; }

void CliSendHeader(sapi_header_struct*, void*) {}

char* CliReadCookies() { return nullptr; }

void CliLogMessage(const char* message, int) { fprintf(stderr, "%s\n", message); }

void RegisterServerVar(const char* name, const char* value, zval* track_vars_array) {
  size_t len = strlen(value);
  // The input filter may free and replace the buffer, so hand it a request-heap copy.
  char* val = estrndup(value, len);
  size_t new_len = len;
  if (sapi_module.input_filter(PARSE_SERVER, name, &val, len, &new_len)) {
    php_register_variable_safe(name, val, new_len, track_vars_array);
  }
  efree(val);
}

void CliRegisterVariables(zval* track_vars_array) {
  // $_SERVER = the environment plus the CLI keys (php-cli / FrankenPHP semantics).
  php_import_environment_variables(track_vars_array);
  RegisterServerVar("PHP_SELF", g_php_self, track_vars_array);
  RegisterServerVar("SCRIPT_NAME", g_php_self, track_vars_array);
  RegisterServerVar("SCRIPT_FILENAME", g_script_filename, track_vars_array);
  RegisterServerVar("PATH_TRANSLATED", g_script_filename, track_vars_array);
  RegisterServerVar("DOCUMENT_ROOT", "", track_vars_array);
}

// display_errors=1 as an overridable default (php.ini and -d beat it).
void CliIniDefaults(HashTable* configuration_hash) {
  zval tmp;
  ZVAL_NEW_STR(&tmp, zend_string_init("1", 1, /*persistent=*/1));
  zend_hash_str_update(configuration_hash, "display_errors", sizeof("display_errors") - 1, &tmp);
}

sapi_module_struct g_cli_module;

void InitCliModule(const char* executable_location) {
  memset(&g_cli_module, 0, sizeof(g_cli_module));
  // "cli" is hard-coded into too many programs (PHPUnit, Composer, console apps); OPcache then
  // needs opcache.enable_cli=1 and APCu apc.enable_cli=1, exactly as under php-cli.
  g_cli_module.name = const_cast<char*>("cli");
  g_cli_module.pretty_name = const_cast<char*>("Command Line Interface (ephpm php)");
  g_cli_module.shutdown = php_module_shutdown_wrapper;
  g_cli_module.ub_write = CliUbWrite;
  g_cli_module.flush = CliFlush;
  g_cli_module.sapi_error = php_error;
  g_cli_module.header_handler = CliHeaderHandler;
  g_cli_module.send_headers = CliSendHeaders;
  g_cli_module.send_header = CliSendHeader;
  g_cli_module.read_cookies = CliReadCookies;
  g_cli_module.register_server_variables = CliRegisterVariables;
  g_cli_module.log_message = CliLogMessage;
  g_cli_module.executable_location = const_cast<char*>(executable_location);
  g_cli_module.ini_defaults = CliIniDefaults;
  g_cli_module.phpinfo_as_text = 1;
}

// STDIN/STDOUT/STDERR constants, as php-cli's cli_register_file_handles(). With the SAPI named
// "cli", php://stdin etc. use the process's fds 0/1/2 directly.
void RegisterFileHandles() {
  php_stream* s_in = php_stream_open_wrapper_ex("php://stdin", "rb", 0, nullptr, nullptr);
  php_stream* s_out = php_stream_open_wrapper_ex("php://stdout", "wb", 0, nullptr, nullptr);
  php_stream* s_err = php_stream_open_wrapper_ex("php://stderr", "wb", 0, nullptr, nullptr);
  if (s_in == nullptr || s_out == nullptr || s_err == nullptr) {
    if (s_in) php_stream_close(s_in);
    if (s_out) php_stream_close(s_out);
    if (s_err) php_stream_close(s_err);
    return;
  }
  zend_constant ic, oc, ec;
  php_stream_to_zval(s_in, &ic.value);
  php_stream_to_zval(s_out, &oc.value);
  php_stream_to_zval(s_err, &ec.value);
  ZEND_CONSTANT_SET_FLAGS(&ic, CONST_CS, 0);
  ic.name = zend_string_init_interned("STDIN", sizeof("STDIN") - 1, 0);
  zend_register_constant(&ic);
  ZEND_CONSTANT_SET_FLAGS(&oc, CONST_CS, 0);
  oc.name = zend_string_init_interned("STDOUT", sizeof("STDOUT") - 1, 0);
  zend_register_constant(&oc);
  ZEND_CONSTANT_SET_FLAGS(&ec, CONST_CS, 0);
  ec.name = zend_string_init_interned("STDERR", sizeof("STDERR") - 1, 0);
  zend_register_constant(&ec);
}

int CompareNamesCaseless(const void* a, const void* b) {
  return strcasecmp(*static_cast<const char* const*>(a), *static_cast<const char* const*>(b));
}

// php -m: [PHP Modules] sorted case-insensitively, then [Zend Modules] in load order.
void PrintModules() {
  uint32_t n = zend_hash_num_elements(&module_registry);
  const char** names = static_cast<const char**>(safe_emalloc(n + 1, sizeof(char*), 0));
  uint32_t i = 0;
  void* ptr;
  ZEND_HASH_MAP_FOREACH_PTR(&module_registry, ptr) {
    if (i < n) names[i++] = static_cast<zend_module_entry*>(ptr)->name;
  } ZEND_HASH_FOREACH_END();
  qsort(names, i, sizeof(char*), CompareNamesCaseless);
  php_printf("[PHP Modules]\n");
  for (uint32_t j = 0; j < i; j++) php_printf("%s\n", names[j]);
  efree(names);
  php_printf("\n[Zend Modules]\n");
  zend_llist_position pos;
  for (zend_extension* ext = static_cast<zend_extension*>(zend_llist_get_first_ex(&zend_extensions, &pos));
       ext != nullptr;
       ext = static_cast<zend_extension*>(zend_llist_get_next_ex(&zend_extensions, &pos))) {
    php_printf("%s\n", ext->name);
  }
  php_printf("\n");
}

void PrintVersion() {
  php_printf("PHP %s (cli) (ephpm %s) (%s)\nCopyright (c) The PHP Group\n%s", PHP_VERSION,
             EPHPM_VERSION,
#ifdef ZTS
             "ZTS",
#else
             "NTS",
#endif
             get_zend_version());
}

void PrintIniFiles(const char* ini_path) {
  php_printf("Configuration File (php.ini) Path: %s\n", ini_path);
  php_printf("Loaded Configuration File:         %s\n",
             php_ini_opened_path ? php_ini_opened_path : "(none)");
  php_printf("Scan for additional .ini files in: %s\n",
             php_ini_scanned_path ? php_ini_scanned_path : "(none)");
  php_printf("Additional .ini files parsed:      %s\n",
             php_ini_scanned_files ? php_ini_scanned_files : "(none)");
}

// Runs one php-cli "request". Returns the process exit code. No C++ objects on this frame.
int RunPlan(const CliPlan* plan, const char* ini_path_for_display) {
  zend_file_handle file_handle;
  volatile bool have_file = false;
  FILE* fp = nullptr;

  if (plan->mode == Mode::kScript || plan->mode == Mode::kLint) {
    fp = fopen(plan->script, "rb");
    if (fp == nullptr) {
      fprintf(stderr, "Could not open input file: %s\n", plan->script);
      return 1;
    }
    zend_stream_init_fp(&file_handle, fp, plan->script);
    file_handle.primary_script = 1;
    have_file = true;
    g_php_self = plan->script;
    g_script_filename = plan->script;
  } else if (plan->mode == Mode::kStdin) {
    zend_stream_init_fp(&file_handle, stdin, "Standard input code");
    file_handle.primary_script = 1;
    have_file = true;
    g_php_self = "Standard input code";
    g_script_filename = "Standard input code";
  } else if (plan->mode == Mode::kCode) {
    g_php_self = "Standard input code";
    g_script_filename = "";
  }

  // php-cli never changes into the script's directory.
  SG(options) |= SAPI_OPTION_NO_CHDIR;
  SG(request_info).argc = plan->php_argc;
  SG(request_info).argv = plan->php_argv;
  SG(request_info).path_translated = const_cast<char*>(g_script_filename);

  volatile int exit_status = 0;
  volatile bool request_started = false;
  zend_first_try {
    if (php_request_startup() == FAILURE) {
      fprintf(stderr, "ephpm php: could not start the PHP request\n");
      exit_status = 1;
    } else {
      request_started = true;
      CG(skip_shebang) = 1;
      zend_is_auto_global_str(ZEND_STRL("_SERVER"));
      PG(during_request_startup) = 0;
      switch (plan->mode) {
        case Mode::kScript:
          RegisterFileHandles();
          php_execute_script(&file_handle);
          break;
        case Mode::kStdin:
          // As php-cli: no STDIN/STDOUT/STDERR constants when the script itself comes from stdin
          // (the script's file handle owns the stdin FILE*).
          php_execute_script(&file_handle);
          break;
        case Mode::kCode:
          RegisterFileHandles();
          // As php-cli 8.2: the status comes from EG(exit_status) (parse error, uncaught
          // exception and fatal error give 255; exit(N) gives N).
          zend_eval_string_ex(const_cast<char*>(plan->code), nullptr, "Command line code", 1);
          break;
        case Mode::kLint:
          if (php_lint_script(&file_handle) == SUCCESS) {
            php_printf("No syntax errors detected in %s\n", plan->script);
          } else {
            php_printf("Errors parsing %s\n", plan->script);
            exit_status = 255;
          }
          break;
        case Mode::kVersion:
          PrintVersion();
          break;
        case Mode::kModules:
          PrintModules();
          break;
        case Mode::kInfo:
          php_print_info(PHP_INFO_ALL & ~PHP_INFO_CREDITS);
          php_output_end_all();
          break;
        case Mode::kIniList:
          PrintIniFiles(ini_path_for_display);
          break;
      }
    }
  } zend_end_try();

  if (have_file) zend_destroy_file_handle(&file_handle);
  if (request_started) {
    zend_try {
      php_request_shutdown(nullptr);
    } zend_end_try();
  }
  // Like php-cli: our own failure code wins, otherwise PHP's (exit(), fatal error = 255), read
  // after shutdown so exit() in a shutdown function counts.
  if (exit_status == 0) exit_status = EG(exit_status);
  return exit_status;
}

// ---------------------------------------------------------------------------------------------
// Config and store
// ---------------------------------------------------------------------------------------------

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The config `ephpm php` reads: the file config::Locate() names, as for `serve`; only [kv] is
// used. *config_path becomes the absolute path of the file in use ("" for built-in defaults),
// the string `serve` derives its store name from.
bool LoadKvOptions(const std::string& flag_path, kv::Options* options, std::string* config_path,
                   bool* explicit_config, std::string* error) {
  config::ConfigLocation where = config::Locate(flag_path);
  config::Config cfg;
  config::LoadResult r = config::Load(where.path, where.explicit_path, &cfg);
  for (const std::string& w : r.warnings) fprintf(stderr, "ephpm php: warning: %s\n", w.c_str());
  if (!r.ok) {
    *error = r.error;
    return false;
  }
  *options = cfg.kv.options;
  *config_path = cfg.source_path;
  *explicit_config = where.explicit_path;
  return true;
}

// The store behind ephpm_kv_* for this process (docs/kv-contract.md section 3 item 7 and 4.1).
//
// Attach rule: when a config file is in use (`config_path` is the absolute path that
// runtime/config's Load() returned, the very string `ephpm serve` derives its store name from) and
// an `ephpm serve` started with that file is running, use the server's named arena, so
// `ephpm --config same.toml php bin/console cache:pool:clear` reaches the server's store. The
// server's [kv] settings apply then, and the server's sweeper already runs (*attached = true).
//
// Otherwise: an anonymous MAP_SHARED arena. It is still private to this `ephpm php` process
// (nobody else can map it), but children made with pcntl_fork() share it with the parent, exactly
// like `serve`'s prefork workers share theirs: a forked worker pool sees one store, and a write in
// a child wakes ephpm_kv_wait() in the parent. With an explicitly named config (--config,
// EPHPM_CONFIG) and no server, one line on stderr says so; an attach failure other than "no
// server" (e.g. another ephpm version's layout) is always reported. `ephpm php -i` shows which
// arena is in use (row "KV arena").
std::unique_ptr<kv::Store> OpenCliStore(const kv::Options& options, const std::string& config_path,
                                        bool explicit_config, bool* attached, std::string* error) {
  *attached = false;
  if (!config_path.empty()) {
    std::string attach_error;
    kv::AttachError why = kv::AttachError::kNone;
    auto shared =
        kv::Store::AttachNamed(kv::Store::NameFor(config_path, ""), &why, &attach_error);
    if (shared) {
      *attached = true;
      return shared;
    }
    bool no_server = why == kv::AttachError::kNotFound || why == kv::AttachError::kOwnerGone;
    if (!no_server) {
      fprintf(stderr,
              "ephpm php: cannot attach to the store of the ephpm serve for %s: %s; using a "
              "private store (changes will not reach a server)\n",
              config_path.c_str(), attach_error.c_str());
    } else if (explicit_config) {
      fprintf(stderr,
              "ephpm php: no running ephpm serve for %s; using a private store (changes will not "
              "reach a server)\n",
              config_path.c_str());
    }
  }
  return kv::Store::CreateShared(options, error);
}

// The store's events (a shard discarded because its lock holder died) go to stderr, where the
// other warnings of `ephpm php` go.
void LogKvEvent(const std::string& message) {
  fprintf(stderr, "ephpm php: warning: %s\n", message.c_str());
}

// PHP_BINARY: our own executable, preferably the `ephpm-php` multi-call link next to it (which
// behaves like `ephpm php`), so that tools re-running PHP_BINARY with php-cli options (PHPUnit
// process isolation, Composer) start `ephpm php` again.
std::string ExecutableLocation() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return std::string();
  buf[n] = '\0';
  std::string self(buf);
  size_t slash = self.rfind('/');
  if (slash != std::string::npos) {
    std::string sibling = self.substr(0, slash + 1) + "ephpm-php";
    struct stat a, b;
    if (stat(sibling.c_str(), &a) == 0 && stat(self.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev) {
      return sibling;
    }
  }
  return self;
}

// PHPRC names a php.ini file, or a directory holding php-cli.ini or php.ini: then PHP's own search
// finds it first (as php-cli would). Otherwise we point PHP at Debian's cli php.ini, because the
// compiled-in fallback of libphp is the embed one.
bool PhprcHasIni() {
  const char* phprc = getenv("PHPRC");
  if (phprc == nullptr || phprc[0] == '\0') return false;
  std::string p(phprc);
  return FileExists(p) || FileExists(p + "/php-cli.ini") || FileExists(p + "/php.ini");
}

// The sweeper of this process, started lazily by StartSweeper() (the engine's lazy-start hook).
kv::Store* g_sweeper_store = nullptr;
kv::Sweeper* g_sweeper = nullptr;
pid_t g_sweeper_pid = 0;

void StartSweeper() {
  if (g_sweeper != nullptr || g_sweeper_store == nullptr) return;
  try {
    // Its thread blocks every signal, so Ctrl-C and pcntl signals reach the PHP thread.
    sigset_t old;
    BlockSignalsForHelperThread(&old);
    try {
      g_sweeper = new kv::Sweeper(g_sweeper_store);
      g_sweeper_pid = getpid();
    } catch (...) {
      g_sweeper = nullptr;
    }
    RestoreSignalMask(&old);
  } catch (...) {
  }
}

void StopSweeper() {
  if (g_sweeper == nullptr) return;
  if (g_sweeper_pid == getpid()) {
    delete g_sweeper;  // stops and joins
  }
  // else: a pcntl_fork() child; the thread lives only in the parent (joining it would block
  // forever), so the object is left alone.
  g_sweeper = nullptr;
}

bool EnvFlag(const char* name, bool default_value) {
  const char* v = getenv(name);
  if (v == nullptr || v[0] == '\0') return default_value;
  return !(strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 ||
           strcasecmp(v, "off") == 0);
}

}  // namespace

int PhpCliMain(int argc, char** argv, const CliContext& context) {
  CliArgs args;
  int rc = ParseArgs(argc, argv, &args);
  if (rc >= 0) return rc;
  if (args.help) {
    PrintUsage(stdout);
    return 0;
  }

  kv::Options kv_options;
  std::string config_path;
  std::string error;
  bool explicit_config = false;
  if (!LoadKvOptions(context.config_path, &kv_options, &config_path, &explicit_config, &error)) {
    fprintf(stderr, "ephpm php: %s\n", error.c_str());
    return 2;  // a config error, as for `serve`
  }
  SetupProcessSignals(SignalPolicy::kCli);
  bool attached = false;
  kv::SetEventLog(LogKvEvent);
  std::unique_ptr<kv::Store> store =
      OpenCliStore(kv_options, config_path, explicit_config, &attached, &error);
  if (!store) {
    fprintf(stderr, "ephpm php: cannot create the key-value store: %s\n", error.c_str());
    return 1;
  }
  // The always-on sweeper (docs/kv-contract.md section 3 item 3), started the first time the script
  // creates an expiring entry or waits (before that there is nothing to sweep), so a trivial
  // script does not pay for a thread. EPHPM_KV_SWEEPER=0 turns it off for tests of lazy expiry
  // only. Not when attached: the server's sweeper already reaps that arena.
  g_sweeper_store = store.get();
  if (!attached && EnvFlag("EPHPM_KV_SWEEPER", true)) SetKvLazyStartHook(StartSweeper);

  // INI: php-cli's hard-coded set, then -d. php.ini: -n, else -c, else Debian's php-cli ini
  // (unless PHPRC is set, which PHP's own search then honours), scanning the cli conf.d, so
  // extensions load exactly as under /usr/bin/php.
  EngineOptions options;
  options.hardcoded_ini = CliHardcodedIni();
  options.ini_overrides = args.ini;
  options.ini_ignore = args.ini_ignore;
  if (!args.ini_path.empty()) {
    options.ini_path = args.ini_path;
  } else if (!args.ini_ignore && !PhprcHasIni() && FileExists(kDebianCliIniFile)) {
    options.ini_path = kDebianCliIniFile;
  }
  options.ini_scan_dir = kDebianCliScanDir;
  options.kv_store = store.get();

  std::string exe = ExecutableLocation();
  InitCliModule(exe.empty() ? nullptr : exe.c_str());
  if (!EngineStartup(&g_cli_module, options, &error)) {
    fprintf(stderr, "ephpm php: %s\n", error.c_str());
    return 1;
  }

  // $argv: argv[0] is the script (as given) or "Standard input code".
  std::vector<char*> php_argv;
  std::string argv0 = (args.mode == Mode::kScript) ? args.script : "Standard input code";
  php_argv.push_back(argv0.data());
  for (std::string& a : args.script_args) php_argv.push_back(a.data());
  php_argv.push_back(nullptr);

  CliPlan plan;
  plan.mode = args.mode;
  plan.script = args.script.c_str();
  plan.code = args.code.c_str();
  plan.php_argc = static_cast<int>(php_argv.size() - 1);
  plan.php_argv = php_argv.data();
  std::string ini_display = options.ini_ignore ? std::string("(none)") : options.ini_path;
  const pid_t owner_pid = getpid();
  int exit_status = RunPlan(&plan, ini_display.c_str());

  EngineShutdown();
  SetKvLazyStartHook(nullptr);
  StopSweeper();
  if (getpid() != owner_pid) {
    // A pcntl_fork() child: the parent still uses the arena. Leave it alone; we are exiting.
    (void)store.release();
    return exit_status;
  }
  SetKvStore(nullptr);
  store.reset();
  return exit_status;
}

}  // namespace ephpm::php
