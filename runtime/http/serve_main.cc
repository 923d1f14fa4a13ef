// `ephpm serve`: configuration, the start-up order, and which of the two modes runs.
//
// Start-up order (each step needs the previous one): config, router, the listening socket, the
// named store, PHP module startup on the main thread (which stays the PHP thread: 64 MiB stack
// via RLIMIT_STACK). Then either the master of the worker processes takes over (supervisor.h),
// or, with `workers = 1` and no recycling, this process is the one worker (worker.h) and the
// store's sweeper runs in a thread of it.
#include "runtime/http/serve_main.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "runtime/config/config.h"
#include "runtime/http/listener.h"
#include "runtime/http/mime.h"
#include "runtime/http/router.h"
#include "runtime/http/supervisor.h"
#include "runtime/http/worker.h"
#include "runtime/http/worker_php.h"
#include "runtime/kv/store.h"
#include "runtime/kv/sweeper.h"
#include "runtime/php/engine.h"
#include "runtime/php/request_sapi.h"
#include "runtime/resp/process.h"

namespace ephpm::http {
namespace {

void PhpLog(int level, const std::string& message) {
  static const spdlog::level::level_enum kLevels[] = {spdlog::level::debug, spdlog::level::info,
                                                      spdlog::level::warn, spdlog::level::err,
                                                      spdlog::level::critical};
  spdlog::log(kLevels[level < 0 ? 0 : level > 4 ? 4 : level], "{}", message);
}

void Fail(const std::string& message) { fprintf(stderr, "ephpm: %s\n", message.c_str()); }

// Everything after the store exists: PHP module startup, then the master of the worker
// processes or the single worker until the drain is over; PHP shutdown.
int StartPhpAndServe(const config::Config& cfg, Router& router, MimeTypes& mime, int listen_fd,
                     const std::string& url, kv::Store* store, const std::string& store_name) {
  std::string err;
  php::RequestSapiOptions php_options;
  php_options.kv_store = store;
  php_options.log = PhpLog;
  php_options.max_execution_time = cfg.php.max_execution_time;
  php_options.memory_limit = cfg.php.memory_limit;
  php_options.ini_file = cfg.php.ini_file;
  php_options.post_max_size = cfg.server.max_body_size;
  for (const auto& [k, v] : cfg.php.ini) php_options.ini_overrides.push_back(k + "=" + v);

  int workers = cfg.php.workers;
  if (workers <= 0) workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // PHP module startup once, on this (main) thread, with no thread created: it stays the PHP
  // thread of the single-process mode, and every forked worker's main thread continues as its
  // PHP thread (supervisor.h).
  RaiseMainStackLimit();
  php_options.start_watchdog = false;
  if (!php::RequestSapiStartup(php_options, &err)) {
    Fail("PHP start-up failed: " + err);
    return 1;
  }
  auto announce = [&] {
    printf("ephpm: listening on %s\n", url.c_str());
    fflush(stdout);
    spdlog::info("document root {}, kv store {} ({} bytes, {}), max_execution_time {} s, "
                 "{} worker(s)",
                 router.DocumentRoot(), store_name, cfg.kv.options.memory_limit,
                 kv::EvictionPolicyName(cfg.kv.options.eviction_policy),
                 cfg.php.max_execution_time, workers);
  };
  int rc;
  if (workers > 1 || cfg.php.max_requests > 0) {
    announce();
    rc = RunSupervisor({.cfg = &cfg, .router = &router, .mime = &mime, .store = store,
                        .listen_fd = listen_fd, .workers = workers});
  } else {
    std::unique_ptr<kv::Sweeper> sweeper;
    {
      sigset_t old;
      php::BlockSignalsForHelperThread(&old);
      sweeper = std::make_unique<kv::Sweeper>(store);
      php::RestoreSignalMask(&old);
    }
    rc = RunWorker({.cfg = &cfg, .router = &router, .mime = &mime, .listen_fd = listen_fd,
                    .on_ready = announce});
    sweeper->Stop();
  }
  php::RequestSapiShutdown();
  return rc;
}

// [kv.redis_compat]: binds the listener here (a busy port is a start-up error) and forks the
// process that serves it (runtime/resp/process.h), before PHP starts. Returns its pid, -1 on error.
pid_t StartRedisCompat(const config::Config& cfg, kv::Store* store, int http_fd) {
  const config::RedisCompatConfig& rc = cfg.kv.redis_compat;
  std::string url, err;
  int fd = OpenListener(rc.listen_address, &url, &err);
  if (fd < 0) {
    Fail("[kv.redis_compat] listen: " + err);
    return -1;
  }
  pid_t pid = resp::StartRespProcess(rc, store, fd, {http_fd}, &err);
  close(fd);
  if (pid < 0) {
    Fail("[kv.redis_compat]: " + err);
    return -1;
  }
  // The same line format as the HTTP one; scripts read the port from it when listen ends in :0.
  printf("ephpm: redis_compat listening on %s%s\n", url.substr(url.find("://") + 3).c_str(),
         rc.password.empty() ? "" : " (AUTH required)");
  fflush(stdout);
  return pid;
}

}  // namespace

int ServeMain(const ServeOptions& opts) {
  // Logs go to stderr; stdout carries the "listening on" line (and the access log with "-").
  spdlog::set_default_logger(spdlog::stderr_color_mt("ephpm"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e [%l] %v");

  // --- configuration -------------------------------------------------------------------------
  // Read before SetupProcessSignals() blocks SIGTERM/SIGINT: until then Ctrl-C and SIGTERM end
  // the process at once, whatever the file system does while the config is read.
  config::ConfigLocation where = config::Locate(opts.config_path);
  config::Config cfg;
  config::LoadResult loaded = config::Load(where.path, where.explicit_path, &cfg);
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
  if (!config::CheckServeFiles(cfg, &err)) {
    Fail(err);
    return 2;
  }
  php::SetupProcessSignals(php::SignalPolicy::kServer);
  spdlog::set_level(spdlog::level::from_str(cfg.log.level));
  if (cfg.source_path.empty()) {
    spdlog::info("no config file ({} not found): using built-in defaults", where.path);
  }

  Router router(cfg.server);
  if (!router.Init(&err)) {
    Fail(err);
    return 2;
  }
  MimeTypes mime;
  if (cfg.php.mode == config::PhpMode::kWorker) {
    php::WorkerScript script;
    if (!ResolveWorkerScript(cfg, router.DocumentRoot(), &script, &err)) {
      Fail(err);
      return 2;
    }
    ConfigureWorkerMode(script);
    // The worker script is the front controller: URLs without a file reach it (the router reads
    // cfg.server by reference).
    cfg.server.fallback = script.script_name;
  }

  // --- listener, store, PHP --------------------------------------------------------------------
  std::string url;
  int listen_fd = OpenListener(cfg.server.listen_address, &url, &err);
  if (listen_fd < 0) {
    Fail(err);
    return 1;
  }
  std::string store_name = kv::Store::NameFor(cfg.source_path, cfg.server.listen);
  kv::SetEventLog([](const std::string& message) { spdlog::warn("{}", message); });
  std::unique_ptr<kv::Store> store = kv::Store::CreateNamed(store_name, cfg.kv.options, &err);
  if (!store) {
    Fail("kv store: " + err);
    return 1;
  }
  pid_t resp_pid = 0;
  if (cfg.kv.redis_compat.enabled) {
    resp_pid = StartRedisCompat(cfg, store.get(), listen_fd);
    if (resp_pid < 0) return 1;
  }
  int rc = StartPhpAndServe(cfg, router, mime, listen_fd, url, store.get(), store_name);
  resp::StopRespProcess(resp_pid);
  store.reset();
  spdlog::info("stopped");
  return rc;
}

}  // namespace ephpm::http
