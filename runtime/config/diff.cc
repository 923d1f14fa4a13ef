// The reload diff (diff.h), and the names of the enum values it and the loader report.
#include "runtime/config/diff.h"

#include <algorithm>

namespace ephpm::config {
namespace {

// The value a [php.ini] directive ends up with: the last of its lines wins, as in PHP's parser.
const std::string* IniValue(const Config& cfg, const std::string& name) {
  const std::string* value = nullptr;
  for (const auto& [k, v] : cfg.php.ini) {
    if (k == name) value = &v;
  }
  return value;
}

// Directives PHP uses only during module start-up (shared memory sizes, preloading, loading
// extensions): a worker could set a new value, but nothing would read it.
bool StartupOnlyIni(const std::string& name) {
  static const char* const kNames[] = {
      "extension", "zend_extension", "opcache.memory_consumption",
      "opcache.interned_strings_buffer", "opcache.max_accelerated_files", "opcache.jit_buffer_size",
      "opcache.preload", "opcache.preload_user", "opcache.huge_code_pages", "opcache.lockfile_path",
      "opcache.file_cache", "opcache.file_cache_only", "apc.shm_size", "apc.enabled"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  return false;
}

void DiffIni(const Config& running, const Config& next, std::vector<ConfigChange>* out) {
  std::vector<std::string> seen;
  for (const auto& [name, value] : next.php.ini) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    const std::string* before = IniValue(running, name);
    if (before == nullptr || *before != *IniValue(next, name)) {
      out->push_back({"[php.ini] " + name, !StartupOnlyIni(name)});
    }
  }
  for (const auto& [name, value] : running.php.ini) {
    if (IniValue(next, name) == nullptr &&
        std::find(seen.begin(), seen.end(), name) == seen.end()) {
      seen.push_back(name);
      out->push_back({"[php.ini] " + name + " (removed)", false});
    }
  }
}

bool SameListen(const ServerConfig& a, const ServerConfig& b) {
  return a.listen_address.host == b.listen_address.host &&
         a.listen_address.port == b.listen_address.port;
}

}  // namespace

std::vector<ConfigChange> DiffConfigs(const Config& running, const Config& next) {
  std::vector<ConfigChange> out;
  auto add = [&out](bool changed, const char* key, bool reloadable = true) {
    if (changed) out.push_back({key, reloadable});
  };
  const ServerConfig& a = running.server;
  const ServerConfig& b = next.server;
  add(!SameListen(a, b), "[server] listen", false);
  add(a.document_root != b.document_root, "[server] document_root");
  add(a.index_files != b.index_files, "[server] index_files");
  add(a.fallback != b.fallback, "[server] fallback");
  add(a.hidden_files != b.hidden_files, "[server] hidden_files");
  add(a.io_threads != b.io_threads, "[server] io_threads");
  add(a.php_queue_size != b.php_queue_size, "[server] php_queue_size");
  add(a.max_body_size != b.max_body_size, "[server.request] max_body_size");
  add(a.max_header_size != b.max_header_size, "[server.request] max_header_size");
  add(a.body_buffer_size != b.body_buffer_size, "[server.request] body_buffer_size");
  add(a.max_buffered_bodies != b.max_buffered_bodies, "[server.request] max_buffered_bodies");
  add(a.header_read_timeout != b.header_read_timeout, "[server.timeouts] header_read");
  add(a.idle_timeout != b.idle_timeout, "[server.timeouts] idle");
  add(a.request_timeout != b.request_timeout, "[server.timeouts] request");

  const PhpConfig& p = running.php;
  const PhpConfig& q = next.php;
  add(p.mode != q.mode, "[php] mode", false);
  add(p.worker_script != q.worker_script, "[php] worker_script");
  add(p.max_execution_time != q.max_execution_time, "[php] max_execution_time");
  add(p.memory_limit != q.memory_limit, "[php] memory_limit");
  add(p.ini_file != q.ini_file, "[php] ini_file", false);
  add(p.workers != q.workers, "[php] workers");
  add(p.max_requests != q.max_requests, "[php] max_requests");
  DiffIni(running, next, &out);

  const kv::Options& k = running.kv.options;
  const kv::Options& l = next.kv.options;
  add(k.memory_limit != l.memory_limit, "[kv] memory_limit", false);
  add(k.eviction_policy != l.eviction_policy, "[kv] eviction_policy", false);
  add(k.shards != l.shards, "[kv] shards", false);
  // The Redis-protocol listener is a process the master forks once, at start-up.
  const RedisCompatConfig& r = running.kv.redis_compat;
  const RedisCompatConfig& t = next.kv.redis_compat;
  add(r.enabled != t.enabled || r.listen_address.host != t.listen_address.host ||
          r.listen_address.port != t.listen_address.port || r.password != t.password ||
          r.max_connections != t.max_connections || r.idle_timeout_secs != t.idle_timeout_secs ||
          r.max_input_buffer != t.max_input_buffer,
      "[kv.redis_compat]", false);

  // The metrics listener is bound once, at start-up, and answered by the master.
  add(running.metrics.listen.empty() != next.metrics.listen.empty() ||
          running.metrics.listen_address.host != next.metrics.listen_address.host ||
          running.metrics.listen_address.port != next.metrics.listen_address.port,
      "[metrics] listen", false);

  add(running.log.level != next.log.level, "[log] level");
  add(running.log.access_log != next.log.access_log, "[log] access_log");
  add(running.log.access_log_format != next.log.access_log_format, "[log] access_log_format");
  return out;
}

void KeepStartupSettings(const Config& running, Config* next) {
  next->server.listen = running.server.listen;
  next->server.listen_address = running.server.listen_address;
  next->php.mode = running.php.mode;
  next->php.ini_file = running.php.ini_file;
  next->kv = running.kv;
  next->metrics = running.metrics;
  // [php.ini]: start-up-only directives and removed ones get their running value back.
  std::vector<std::pair<std::string, std::string>> ini;
  for (const auto& [name, value] : next->php.ini) {
    if (!StartupOnlyIni(name)) ini.emplace_back(name, value);
  }
  for (const auto& [name, value] : running.php.ini) {
    bool gone = IniValue(*next, name) == nullptr;
    bool taken =
        std::any_of(ini.begin(), ini.end(), [&](const auto& e) { return e.first == name; });
    if ((gone || StartupOnlyIni(name)) && !taken) ini.emplace_back(name, *IniValue(running, name));
  }
  next->php.ini = std::move(ini);
}

const char* HiddenFilesName(HiddenFiles policy) {
  switch (policy) {
    case HiddenFiles::kDeny: return "deny";
    case HiddenFiles::kIgnore: return "ignore";
    case HiddenFiles::kAllow: return "allow";
  }
  return "?";
}

const char* PhpModeName(PhpMode mode) {
  return mode == PhpMode::kWorker ? "worker" : "classic";
}

namespace {
constexpr AccessLogFormat kFormats[] = {AccessLogFormat::kCommonDuration, AccessLogFormat::kCommon,
                                        AccessLogFormat::kCombined, AccessLogFormat::kJson};
}  // namespace

const char* AccessLogFormatName(AccessLogFormat format) {
  switch (format) {
    case AccessLogFormat::kCommonDuration: return "common_duration";
    case AccessLogFormat::kCommon: return "common";
    case AccessLogFormat::kCombined: return "combined";
    case AccessLogFormat::kJson: return "json";
  }
  return "?";
}

bool ParseAccessLogFormat(std::string_view name, AccessLogFormat* out) {
  for (AccessLogFormat f : kFormats) {
    if (name == AccessLogFormatName(f)) {
      *out = f;
      return true;
    }
  }
  return false;
}

}  // namespace ephpm::config
