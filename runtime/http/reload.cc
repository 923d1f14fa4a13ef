// PrepareServe, `ephpm check` and the config reload (reload.h).
#include "runtime/http/reload.h"

#include <stdio.h>

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "runtime/config/diff.h"
#include "runtime/http/worker_php.h"

namespace ephpm::http {

std::unique_ptr<ServeSetup> PrepareServe(const ServeOptions& opts,
                                         std::vector<std::string>* warnings, std::string* error) {
  auto setup = std::make_unique<ServeSetup>();
  config::ConfigLocation where = config::Locate(opts.config_path);
  setup->location = where.path;
  config::LoadResult loaded = config::Load(where.path, where.explicit_path, &setup->cfg);
  warnings->insert(warnings->end(), loaded.warnings.begin(), loaded.warnings.end());
  if (!loaded.ok) {
    *error = loaded.error;
    return nullptr;
  }
  config::Config& cfg = setup->cfg;
  if (!opts.listen.empty() && !config::ApplyListenOverride(opts.listen, &cfg, error)) {
    return nullptr;
  }
  if (!opts.document_root.empty() &&
      !config::ApplyDocumentRootOverride(opts.document_root, &cfg, error)) {
    return nullptr;
  }
  if (!config::CheckServeFiles(cfg, error)) return nullptr;
  setup->router = std::make_unique<Router>(cfg.server);
  if (!setup->router->Init(error)) return nullptr;
  if (cfg.php.mode == config::PhpMode::kWorker) {
    if (!ResolveWorkerScript(cfg, setup->router->DocumentRoot(), &setup->worker_script, error)) {
      return nullptr;
    }
    // The worker script is the front controller: URLs without a file reach it (the router reads
    // cfg.server by reference).
    cfg.server.fallback = setup->worker_script.script_name;
  }
  return setup;
}

php::RequestSapiOptions PhpOptionsFor(const config::Config& cfg) {
  php::RequestSapiOptions o;
  o.max_execution_time = cfg.php.max_execution_time;
  o.memory_limit = cfg.php.memory_limit;
  o.ini_file = cfg.php.ini_file;
  o.post_max_size = cfg.server.max_body_size;
  for (const auto& [k, v] : cfg.php.ini) o.ini_overrides.push_back(k + "=" + v);
  return o;
}

int ResolvedWorkers(const config::Config& cfg) {
  if (cfg.php.workers > 0) return cfg.php.workers;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int CheckMain(const std::string& config_path) {
  ServeOptions opts;
  opts.config_path = config_path;
  std::string error;
  std::vector<std::string> warnings;
  std::unique_ptr<ServeSetup> setup = PrepareServe(opts, &warnings, &error);
  for (const auto& w : warnings) fprintf(stderr, "ephpm: warning: %s\n", w.c_str());
  if (!setup) {
    fprintf(stderr, "ephpm: %s\n", error.c_str());
    return 2;
  }
  if (setup->cfg.source_path.empty()) {
    printf("%s: not found; the built-in defaults are ok\n", setup->location.c_str());
  } else {
    printf("%s: ok\n", setup->cfg.source_path.c_str());
  }
  return 0;
}

bool Reloader::Reload() {
  std::string error;
  std::vector<std::string> warnings;
  std::unique_ptr<ServeSetup> next = PrepareServe(opts_, &warnings, &error);
  for (const auto& w : warnings) spdlog::warn("{}", w);
  if (!next) {
    spdlog::error("config reload rejected, still running the previous configuration: {}", error);
    return false;
  }
  const config::Config& before = running_->cfg;
  std::vector<config::ConfigChange> changes = config::DiffConfigs(before, next->cfg);
  config::KeepStartupSettings(before, &next->cfg);
  int kept = 0;
  for (const config::ConfigChange& c : changes) {
    if (c.reloadable) {
      spdlog::info("config reload: {} changed", c.key);
    } else {
      ++kept;
      spdlog::warn("config reload: {} changed, but it is bound at start-up: the running value "
                   "is kept until the server is restarted",
                   c.key);
    }
  }
  std::string old_root = running_->router->DocumentRoot();
  std::string new_root = next->router->DocumentRoot();
  if (old_root != new_root) {
    spdlog::info("config reload: document root {} -> {}", old_root, new_root);
  }
  if (next->cfg.php.mode == config::PhpMode::kWorker) ConfigureWorkerMode(next->worker_script);
  spdlog::set_level(spdlog::level::from_str(next->cfg.log.level));
  spdlog::info("config reload: {} accepted ({} change(s), {} kept until a restart); restarting "
               "the workers",
               next->cfg.source_path.empty() ? next->location : next->cfg.source_path,
               changes.size(), kept);
  running_ = std::move(next);
  return true;
}

}  // namespace ephpm::http
