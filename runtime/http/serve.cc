#include "runtime/http/serve.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "runtime/config/config.h"
#include "runtime/http/mime.h"
#include "runtime/http/router.h"
#include "runtime/http/server.h"
#include "runtime/http/supervisor.h"
#include "runtime/http/worker_php.h"
#include "runtime/kv/store.h"
#include "runtime/kv/sweeper.h"
#include "runtime/php/engine.h"
#include "runtime/php/request_sapi.h"

namespace ephpm::http {
namespace {

constexpr size_t kPhpThreadStack = 64ull << 20;  // embedding-php.md section 11

struct PhpThreadState {
  php::RequestSapiOptions options;
  JobQueue* queue = nullptr;
  const php::WorkerScript* worker_script = nullptr;  // worker mode
  bool booted = false;  // worker mode: the first boot attempt ended (ok or not)
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;  // startup finished (ok or not)
  bool ok = false;
  bool exited = false;
  std::string error;
};

void* PhpThreadMain(void* arg) {
  auto* st = static_cast<PhpThreadState*>(arg);
  pthread_setname_np(pthread_self(), "ephpm-php");
  std::string error;
  bool ok = php::RequestSapiStartup(st->options, &error);
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->started = true;
    st->ok = ok;
    st->error = error;
  }
  st->cv.notify_all();
  if (ok && st->worker_script != nullptr) {
    WorkerPhpHooks hooks;
    hooks.on_ready = hooks.on_boot_failed = [st] {
      std::lock_guard<std::mutex> lock(st->mu);
      st->booted = true;
      st->cv.notify_all();
    };
    RunWorkerPhp(*st->worker_script, st->queue, hooks);
    php::RequestSapiShutdown();
  } else if (ok) {
    while (std::unique_ptr<PhpJob> job = st->queue->Pop()) {
      php::ExecuteRequest(job->info, job->writer.get());
    }
    php::RequestSapiShutdown();
  }
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->exited = true;
  }
  st->cv.notify_all();
  return nullptr;
}

void PhpLog(int level, const std::string& message) {
  static const spdlog::level::level_enum kLevels[] = {spdlog::level::debug, spdlog::level::info,
                                                      spdlog::level::warn, spdlog::level::err,
                                                      spdlog::level::critical};
  spdlog::log(kLevels[level < 0 ? 0 : level > 4 ? 4 : level], "{}", message);
}

void Fail(const std::string& message) { fprintf(stderr, "ephpm: %s\n", message.c_str()); }

}  // namespace

int ServeMain(const ServeOptions& opts) {
  php::SetupProcessSignals(php::SignalPolicy::kServer);
  // Logs go to stderr; stdout carries the "listening on" line (and the access log with "-").
  spdlog::set_default_logger(spdlog::stderr_color_mt("ephpm"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e [%l] %v");

  // --- configuration -------------------------------------------------------------------------
  std::string path = opts.config_path;
  bool explicit_path = !path.empty();
  if (path.empty()) {
    const char* env = getenv("EPHPM_CONFIG");
    if (env != nullptr && *env != '\0') {
      path = env;
      explicit_path = true;
    } else {
      path = "ephpm.toml";
    }
  }
  config::Config cfg;
  config::LoadResult loaded = config::Load(path, explicit_path, &cfg);
  for (const auto& w : loaded.warnings) fprintf(stderr, "ephpm: warning: %s\n", w.c_str());
  if (!loaded.ok) {
    Fail(loaded.error);
    return 2;
  }
  std::string err;
  if (!opts.listen.empty() && !config::ApplyListenOverride(opts.listen, &cfg, &err)) {
    Fail(err);
    return 2;
  }
  if (!opts.document_root.empty() &&
      !config::ApplyDocumentRootOverride(opts.document_root, &cfg, &err)) {
    Fail(err);
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(cfg.log.level));
  if (cfg.source_path.empty()) {
    spdlog::info("no config file ({} not found): using built-in defaults", path);
  }

  Router router(cfg.server);
  if (!router.Init(&err)) {
    Fail(err);
    return 2;
  }
  MimeTypes mime;
  php::WorkerScript worker_script;
  bool worker_mode = cfg.php.mode == config::PhpMode::kWorker;
  if (worker_mode) {
    if (!ResolveWorkerScript(cfg, router.DocumentRoot(), &worker_script, &err)) {
      Fail(err);
      return 2;
    }
    // The worker script is the front controller: URLs without a file reach it (the router
    // reads cfg.server by reference).
    cfg.server.fallback = worker_script.script_name;
  }

  // --- listener, store, PHP --------------------------------------------------------------------
  std::string url;
  int listen_fd = OpenListener(cfg.server.listen_address, &url, &err);
  if (listen_fd < 0) {
    Fail(err);
    return 1;
  }
  std::string store_name = kv::Store::NameFor(
      cfg.source_path.empty() ? "listen:" + cfg.server.listen : cfg.source_path);
  std::unique_ptr<kv::Store> store = kv::Store::CreateNamed(store_name, cfg.kv.options, &err);
  if (!store) {
    Fail("kv store: " + err);
    return 1;
  }
  php::RequestSapiOptions php_options;
  php_options.kv_store = store.get();
  php_options.log = PhpLog;
  php_options.max_execution_time = cfg.php.max_execution_time;
  php_options.memory_limit = cfg.php.memory_limit;
  php_options.ini_file = cfg.php.ini_file;
  php_options.post_max_size = cfg.server.max_body_size;
  for (const auto& [k, v] : cfg.php.ini) php_options.ini_overrides.push_back(k + "=" + v);

  // --- prefork mode (issue 8): workers > 1, or recycling ----------------------------------------
  int workers = cfg.php.workers;
  if (workers <= 0) workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (workers > 1 || cfg.php.max_requests > 0) {
    // PHP module startup once, on this (main) thread, with no thread created: every forked
    // worker's main thread continues as its PHP thread (supervisor.h).
    RaiseMainStackLimit();
    php_options.start_watchdog = false;
    if (!php::RequestSapiStartup(php_options, &err)) {
      Fail("PHP start-up failed: " + err);
      return 1;
    }
    printf("ephpm: listening on %s\n", url.c_str());
    fflush(stdout);
    spdlog::info("document root {}, kv store {} ({} bytes, {}), max_execution_time {} s, "
                 "{} worker(s)",
                 router.DocumentRoot(), store_name, cfg.kv.options.memory_limit,
                 kv::EvictionPolicyName(cfg.kv.options.eviction_policy),
                 cfg.php.max_execution_time, workers);
    SupervisorContext sctx;
    sctx.cfg = &cfg;
    sctx.router = &router;
    sctx.mime = &mime;
    sctx.store = store.get();
    sctx.listen_fd = listen_fd;
    sctx.workers = workers;
    sctx.worker_script = worker_mode ? &worker_script : nullptr;
    int rc = RunSupervisor(sctx);
    php::RequestSapiShutdown();
    store.reset();
    spdlog::info("stopped");
    return rc;
  }

  // --- single-process mode (workers = 1) --------------------------------------------------------
  std::unique_ptr<kv::Sweeper> sweeper;
  {
    sigset_t old;
    php::BlockSignalsForHelperThread(&old);
    sweeper = std::make_unique<kv::Sweeper>(store.get());
    php::RestoreSignalMask(&old);
  }

  JobQueue queue(static_cast<size_t>(cfg.server.php_queue_size));
  PhpThreadState php_state;
  php_state.queue = &queue;
  php_state.options = php_options;
  php_state.worker_script = worker_mode ? &worker_script : nullptr;

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kPhpThreadStack);
  pthread_t php_thread;
  if (pthread_create(&php_thread, &attr, PhpThreadMain, &php_state) != 0) {
    Fail("cannot create the PHP thread");
    return 1;
  }
  pthread_attr_destroy(&attr);
  {
    std::unique_lock<std::mutex> lock(php_state.mu);
    php_state.cv.wait(lock, [&] { return php_state.started; });
  }
  if (!php_state.ok) {
    pthread_join(php_thread, nullptr);
    Fail("PHP start-up failed: " + php_state.error);
    return 1;
  }
  if (worker_mode) {  // accept once the worker script has booted (or failed and answers 503)
    std::unique_lock<std::mutex> lock(php_state.mu);
    php_state.cv.wait(lock, [&] { return php_state.booted || php_state.exited; });
  }

  AccessLog access_log(cfg.log.access_log);
  Server server(cfg, &router, &mime, &queue, &access_log);
  {
    sigset_t old;
    php::BlockSignalsForHelperThread(&old);
    server.Start(listen_fd);
    php::RestoreSignalMask(&old);
  }
  printf("ephpm: listening on %s\n", url.c_str());
  fflush(stdout);
  spdlog::info("document root {}, kv store {} ({} bytes, {}), max_execution_time {} s",
               router.DocumentRoot(), store_name, cfg.kv.options.memory_limit,
               kv::EvictionPolicyName(cfg.kv.options.eviction_policy),
               cfg.php.max_execution_time);

  // --- signals -----------------------------------------------------------------------------------
  sigset_t waitset;
  sigemptyset(&waitset);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&waitset, s);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&waitset, &info);
    if (sig < 0) continue;
    if (sig == SIGINT || sig == SIGTERM || sig == SIGQUIT) {
      spdlog::info("received {}: draining", strsignal(sig));
      break;
    }
    if (sig == SIGHUP && worker_mode) {
      bool queued = RequestWorkerReload(&queue);
      spdlog::info("received {}: {}", strsignal(sig),
                   queued ? "booting the worker script again" : "ignored (PHP queue full)");
      continue;
    }
    spdlog::info("received {}: ignored", strsignal(sig));
  }

  // --- graceful shutdown ---------------------------------------------------------------------------
  server.StopAccepting();
  auto budget = std::chrono::seconds(cfg.php.max_execution_time > 0
                                         ? cfg.php.max_execution_time + 5
                                         : 30);
  if (!server.Drain(std::chrono::duration_cast<std::chrono::milliseconds>(budget))) {
    spdlog::warn("{} connection(s) still busy after {} s; interrupting PHP",
                 server.active_connections(), budget.count());
    php::InterruptRunningRequest();
    server.Drain(std::chrono::milliseconds(5000));
  }
  queue.Close();
  {
    std::unique_lock<std::mutex> lock(php_state.mu);
    if (!php_state.cv.wait_for(lock, std::chrono::seconds(15), [&] { return php_state.exited; })) {
      spdlog::error("the PHP thread did not stop; exiting");
      fflush(nullptr);
      _exit(1);
    }
  }
  pthread_join(php_thread, nullptr);
  server.Stop();
  sweeper->Stop();
  sweeper.reset();
  store.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace ephpm::http
