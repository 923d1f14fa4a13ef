// `ephpm serve`: configuration, the start-up order, and which of the two modes runs.
//
// Start-up order (each step needs the previous one): config, router, the listening socket, the
// named store, PHP module startup on the main thread (which stays the PHP thread: 64 MiB stack
// via RLIMIT_STACK). Then either the master of the worker processes takes over (supervisor.h),
// or, with `workers = 1`, no recycling and no [kv.redis_compat] (whose process only a thread-free
// master can restart), this process is the one worker (worker.h) and the store's sweeper runs in
// a thread of it.
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
#include "runtime/http/metrics_collect.h"
#include "runtime/http/mime.h"
#include "runtime/http/reload.h"
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
// resp_pid/resp_fd: the RESP process and its socket ([kv.redis_compat]; 0 / -1: off), handed to
// the master, which always runs then; *resp_pid is 0 once the master has stopped it.
int StartPhpAndServe(Reloader& reloader, MimeTypes& mime, int listen_fd, int metrics_fd,
                     const std::string& url, kv::Store* store, const std::string& store_name,
                     pid_t* resp_pid, int resp_fd) {
  const ServeSetup& setup = reloader.running();
  const config::Config& cfg = setup.cfg;
  std::string err;
  php::RequestSapiOptions php_options = PhpOptionsFor(cfg);
  php_options.kv_store = store;
  php_options.log = PhpLog;

  int workers = ResolvedWorkers(cfg);
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
                 setup.router->DocumentRoot(), store_name, cfg.kv.options.memory_limit,
                 kv::EvictionPolicyName(cfg.kv.options.eviction_policy),
                 cfg.php.max_execution_time, workers);
  };
  int rc;
  if (workers > 1 || cfg.php.max_requests > 0 || *resp_pid > 0) {
    announce();
    SupervisorContext ctx;
    ctx.cfg = &cfg;
    ctx.router = setup.router.get();
    ctx.mime = &mime;
    ctx.store = store;
    ctx.listen_fd = listen_fd;
    ctx.workers = workers;
    ctx.metrics_fd = metrics_fd;
    ctx.resp_pid = *resp_pid;
    ctx.resp_listen_fd = resp_fd;
    ctx.resp_main = [resp_config = cfg.kv.redis_compat, store, resp_fd, master = getpid()] {
      resp::RunRespProcess(resp_config, store, resp_fd, master);
    };
    ctx.reload = [&reloader](SupervisorContext* live) {
      if (!reloader.Reload()) return false;
      live->cfg = &reloader.running().cfg;
      live->router = reloader.running().router.get();
      live->workers = ResolvedWorkers(reloader.running().cfg);
      return true;
    };
    rc = RunSupervisor(ctx);
    *resp_pid = 0;  // the master has stopped it
  } else {
    std::unique_ptr<kv::Sweeper> sweeper;
    std::unique_ptr<MetricsServer> metrics_server;
    {
      sigset_t old;
      php::BlockSignalsForHelperThread(&old);
      sweeper = std::make_unique<kv::Sweeper>(store);
      if (metrics_fd >= 0) metrics_server = metrics::StartInProcess(metrics_fd, store, cfg);
      php::RestoreSignalMask(&old);
    }
    rc = RunWorker({.cfg = &cfg, .router = setup.router.get(), .mime = &mime,
                    .listen_fd = listen_fd, .on_ready = announce});
    sweeper->Stop();
  }
  php::RequestSapiShutdown();
  return rc;
}

// [kv.redis_compat]: binds the listener here (a busy port is a start-up error) and forks the
// process that serves it (runtime/resp/process.h), before PHP starts; the child closes the HTTP
// and metrics listeners (metrics_fd -1: none). Returns its pid, -1 on error; *resp_fd is the
// listener, which the master keeps open to restart the process.
pid_t StartRedisCompat(const config::Config& cfg, kv::Store* store, int http_fd,
                       int metrics_fd, int* resp_fd) {
  const config::RedisCompatConfig& rc = cfg.kv.redis_compat;
  std::string url, err;
  int fd = OpenListener(rc.listen_address, &url, &err);
  if (fd < 0) {
    Fail("[kv.redis_compat] listen: " + err);
    return -1;
  }
  pid_t pid = resp::StartRespProcess(rc, store, fd, {http_fd, metrics_fd}, &err);
  *resp_fd = fd;
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
  metrics::MarkStart();

  // --- configuration -------------------------------------------------------------------------
  // Read before SetupProcessSignals() blocks SIGTERM/SIGINT: until then Ctrl-C and SIGTERM end
  // the process at once, whatever the file system does while the config is read. The same
  // reading serves SIGHUP and `ephpm check` (reload.h).
  std::string err;
  std::vector<std::string> warnings;
  std::unique_ptr<ServeSetup> setup = PrepareServe(opts, &warnings, &err);
  for (const auto& w : warnings) fprintf(stderr, "ephpm: warning: %s\n", w.c_str());
  if (!setup) {
    Fail(err);
    return 2;
  }
  const config::Config& cfg = setup->cfg;
  php::SetupProcessSignals(php::SignalPolicy::kServer);
  spdlog::set_level(spdlog::level::from_str(cfg.log.level));
  if (cfg.source_path.empty()) {
    spdlog::info("no config file ({} not found): using built-in defaults", setup->location);
  }
  MimeTypes mime;
  if (cfg.php.mode == config::PhpMode::kWorker) ConfigureWorkerMode(setup->worker_script);
  Reloader reloader(opts, std::move(setup));

  // --- listener, store, PHP --------------------------------------------------------------------
  std::string url;
  int listen_fd = OpenListener(cfg.server.listen_address, &url, &err);
  if (listen_fd < 0) {
    Fail(err);
    return 1;
  }
  int metrics_fd = -1;  // [metrics] listen: answered by the master (metrics_server.h)
  if (!cfg.metrics.listen.empty()) {
    std::string metrics_url;
    metrics_fd = OpenListener(cfg.metrics.listen_address, &metrics_url, &err);
    if (metrics_fd < 0) {
      Fail("[metrics] listen: " + err);
      return 1;
    }
    spdlog::info("metrics on {}/metrics, health {}/_ephpm/health, readiness {}/_ephpm/ready",
                 metrics_url, metrics_url, metrics_url);
  }
  std::string store_name = kv::Store::NameFor(cfg.source_path, cfg.server.listen);
  kv::SetEventLog([](const std::string& message) { spdlog::warn("{}", message); });
  std::unique_ptr<kv::Store> store = kv::Store::CreateNamed(store_name, cfg.kv.options, &err);
  if (!store) {
    Fail("kv store: " + err);
    return 1;
  }
  pid_t resp_pid = 0;
  int resp_fd = -1;
  if (cfg.kv.redis_compat.enabled) {
    resp_pid = StartRedisCompat(cfg, store.get(), listen_fd, metrics_fd, &resp_fd);
    if (resp_pid < 0) return 1;
  }
  int rc = StartPhpAndServe(reloader, mime, listen_fd, metrics_fd, url, store.get(), store_name,
                            &resp_pid, resp_fd);
  resp::StopRespProcess(resp_pid);
  store.reset();
  spdlog::info("stopped");
  return rc;
}

}  // namespace ephpm::http
