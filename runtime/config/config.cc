// The TOML walk behind config.h: one method per table, each key checked for type and range,
// the first error kept with the table and key it belongs to. Reading files and checking the
// files a config names live in files.cc.
#include "runtime/config/config.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include <toml++/toml.h>

#include "runtime/config/files.h"
#include "runtime/config/metrics_table.h"
#include "runtime/config/redis_compat.h"
#include "runtime/kv/compression.h"

namespace ephpm::config {
namespace {

const char* TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

// A key as TOML would need it written: bare if it only has [A-Za-z0-9_-], else quoted and
// escaped, so a key holding NUL or a newline neither truncates nor splits the message.
std::string KeyName(std::string_view key) {
  bool bare = !key.empty();
  for (char c : key) bare = bare && (isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  return bare ? std::string(key) : Quote(key);
}

// Collects the first error and every warning while walking the document.
class Loader {
 public:
  Loader(std::string display_name, std::string base_dir, Config* config)
      : file_(std::move(display_name)), base_dir_(std::move(base_dir)), config_(config) {}

  LoadResult Run(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << file_ << ":" << e.source().begin.line << ":" << e.source().begin.column
          << ": invalid TOML: " << e.description();
      result_.error = msg.str();
      return std::move(result_);
    }
    for (auto&& [key, node] : root) {
      std::string k(key.str());
      if (k == "server") {
        if (Table("", k, node)) Server(*node.as_table());
      } else if (k == "php") {
        if (Table("", k, node)) Php(*node.as_table());
      } else if (k == "kv") {
        if (Table("", k, node)) Kv(*node.as_table());
      } else if (k == "log") {
        if (Table("", k, node)) Log(*node.as_table());
      } else if (k == "metrics") {
        std::string key, why;
        if (Table("", k, node) &&
            !LoadMetricsTable(*node.as_table(), &config_->metrics, &key, &why)) {
          Error(k, key, why);
        }
      } else if (node.is_table()) {
        Error("[" + KeyName(k) + "]", "unknown table (expected [server], [php], [kv], [log], [metrics])");
      } else {
        Error(KeyName(k), "unknown top-level key (settings belong in [server], [php], [kv], [log] or [metrics])");
      }
      if (!result_.error.empty()) return std::move(result_);
    }
    WorkerScript();
    result_.ok = result_.error.empty();
    return std::move(result_);
  }

 private:
  // "[server.request] max_body_size" or "[server]" (key empty) or "top" (table empty).
  static std::string Where(const std::string& table, const std::string& key) {
    if (table.empty()) return KeyName(key);
    if (key.empty()) return "[" + table + "]";
    return "[" + table + "] " + KeyName(key);
  }
  void Error(const std::string& where, const std::string& reason) {
    if (result_.error.empty()) result_.error = file_ + ": " + where + ": " + reason;
  }
  void Error(const std::string& table, const std::string& key, const std::string& reason) {
    Error(Where(table, key), reason);
  }
  void Warn(const std::string& table, const std::string& key, const std::string& reason) {
    result_.warnings.push_back(file_ + ": " + Where(table, key) + ": " + reason);
  }
  bool failed() const { return !result_.error.empty(); }

  bool Table(const std::string& parent, const std::string& key, const toml::node& node) {
    if (node.is_table()) return true;
    std::string name = parent.empty() ? KeyName(key) : parent + "." + KeyName(key);
    Error("[" + name + "]", std::string("expected a table, got ") + TypeName(node));
    return false;
  }
  void Unknown(const std::string& table, const std::string& key, const std::string& expected) {
    Error(table, key, "unknown key (expected one of: " + expected + ")");
  }

  bool String(const std::string& table, const std::string& key, const toml::node& node,
              std::string* out) {
    if (!node.is_string()) {
      Error(table, key, std::string("expected a string, got ") + TypeName(node));
      return false;
    }
    *out = node.as_string()->get();
    return true;
  }
  bool Integer(const std::string& table, const std::string& key, const toml::node& node,
               int64_t min, int64_t max, int64_t* out) {
    if (!node.is_integer()) {
      Error(table, key, std::string("expected an integer, got ") + TypeName(node));
      return false;
    }
    int64_t v = node.as_integer()->get();
    if (v < min || v > max) {
      Error(table, key,
            "value " + std::to_string(v) + " out of range (" + std::to_string(min) + ".." +
                std::to_string(max) + ")");
      return false;
    }
    *out = v;
    return true;
  }
  // Seconds: a positive integer or float, at most a day.
  bool Seconds(const std::string& table, const std::string& key, const toml::node& node,
               double* out) {
    double v;
    if (node.is_integer()) {
      v = static_cast<double>(node.as_integer()->get());
    } else if (node.is_floating_point()) {
      v = node.as_floating_point()->get();
    } else {
      Error(table, key, std::string("expected a number of seconds, got ") + TypeName(node));
      return false;
    }
    if (!(v > 0) || !std::isfinite(v) || v > 86400) {
      std::ostringstream s;
      s << "expected seconds > 0 and <= 86400, got " << v;
      Error(table, key, s.str());
      return false;
    }
    *out = v;
    return true;
  }
  // A byte size: integer bytes or a string "<digits>[KB|MB|GB]". `example` and `note` finish the
  // messages ("8MB"; ", 0 = unlimited").
  bool Size(const std::string& table, const std::string& key, const toml::node& node,
            uint64_t min, uint64_t max, uint64_t* out, const char* example = "8MB",
            const char* note = "") {
    uint64_t v = 0;
    if (node.is_integer()) {
      int64_t i = node.as_integer()->get();
      if (i < 0) {
        Error(table, key, "size must not be negative, got " + std::to_string(i));
        return false;
      }
      v = static_cast<uint64_t>(i);
    } else if (node.is_string()) {
      std::string why;
      const std::string& text = node.as_string()->get();
      if (!kv::ParseMemorySize(text, &v, &why)) {
        Error(table, key,
              "invalid size " + Quote(text) + (why.empty() ? "" : " (" + why + ")") +
                  "; expected bytes or <digits>KB|MB|GB" + note);
        return false;
      }
    } else {
      Error(table, key,
            std::string("expected a size (integer bytes or a string like \"") + example +
                "\"), got " + TypeName(node));
      return false;
    }
    if (v < min || v > max) {
      Error(table, key,
            "size " + std::to_string(v) + " bytes out of range (" + std::to_string(min) + ".." +
                std::to_string(max) + " bytes)");
      return false;
    }
    *out = v;
    return true;
  }
  bool Path(const std::string& table, const std::string& key, const toml::node& node,
            std::string* out) {
    std::string s;
    if (!String(table, key, node, &s)) return false;
    if (s.empty()) {
      Error(table, key, "must not be empty");
      return false;
    }
    if (s.find('\0') != std::string::npos) {
      Error(table, key, "must not contain NUL bytes");
      return false;
    }
    *out = AbsolutePath(s, base_dir_);
    return true;
  }

  void Server(const toml::table& t) {
    const std::string T = "server";
    ServerConfig& s = config_->server;
    for (auto&& [key, node] : t) {
      std::string k(key.str());
      if (k == "listen") {
        std::string v, why;
        if (!String(T, k, node, &v)) return;
        if (!ParseListenAddress(v, &s.listen_address, &why)) return Error(T, k, why);
        s.listen = v;
      } else if (k == "document_root") {
        if (!Path(T, k, node, &s.document_root)) return;
      } else if (k == "index_files") {
        if (!node.is_array()) {
          return Error(T, k, std::string("expected an array of file names, got ") +
                                 TypeName(node));
        }
        std::vector<std::string> files;
        for (const toml::node& e : *node.as_array()) {
          if (!e.is_string()) {
            return Error(T, k, std::string("expected an array of strings, found a ") +
                                   TypeName(e));
          }
          const std::string& f = e.as_string()->get();
          if (f.empty() || f.find('/') != std::string::npos || f == "." || f == ".." ||
              f.find('\0') != std::string::npos || f.find('\\') != std::string::npos) {
            return Error(T, k, "invalid index file name " + Quote(f) +
                                   " (a plain file name without slashes)");
          }
          files.push_back(f);
        }
        s.index_files = std::move(files);
      } else if (k == "fallback") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        if (!v.empty() && (v[0] != '/' || v.find("..") != std::string::npos ||
                           v.find('?') != std::string::npos || v.find('\0') != std::string::npos ||
                           v.find('\\') != std::string::npos || v.back() == '/')) {
          return Error(T, k, "invalid fallback " + Quote(v) +
                                 " (expected a URL path of a script such as \"/index.php\", or "
                                 "\"\" to disable)");
        }
        s.fallback = v;
      } else if (k == "hidden_files") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        if (v == "deny") s.hidden_files = HiddenFiles::kDeny;
        else if (v == "ignore") s.hidden_files = HiddenFiles::kIgnore;
        else if (v == "allow") s.hidden_files = HiddenFiles::kAllow;
        else return Error(T, k, "unknown policy " + Quote(v) + " (expected deny, ignore, allow)");
      } else if (k == "io_threads") {
        int64_t v;
        if (!Integer(T, k, node, 0, 256, &v)) return;
        s.io_threads = static_cast<int>(v);
      } else if (k == "php_queue_size") {
        int64_t v;
        if (!Integer(T, k, node, 1, 65536, &v)) return;
        s.php_queue_size = static_cast<int>(v);
      } else if (k == "request") {
        if (Table(T, k, node)) Request(*node.as_table());
      } else if (k == "timeouts") {
        if (Table(T, k, node)) Timeouts(*node.as_table());
      } else {
        return Unknown(T, k,
                       "listen, document_root, index_files, fallback, hidden_files, "
                       "io_threads, php_queue_size, [server.request], [server.timeouts]");
      }
      if (failed()) return;
    }
  }

  void Request(const toml::table& t) {
    const std::string T = "server.request";
    ServerConfig& s = config_->server;
    for (auto&& [key, node] : t) {
      std::string k(key.str());
      if (k == "max_body_size") {
        if (!Size(T, k, node, 1, 1ull << 30, &s.max_body_size)) return;
      } else if (k == "max_header_size") {
        if (!Size(T, k, node, 1024, 1ull << 20, &s.max_header_size)) return;
      } else if (k == "body_buffer_size") {
        if (!Size(T, k, node, 1024, 1ull << 30, &s.body_buffer_size)) return;
      } else if (k == "max_buffered_bodies") {
        if (!Size(T, k, node, 1024, 1ull << 40, &s.max_buffered_bodies)) return;
      } else {
        return Unknown(T, k,
                       "max_body_size, max_header_size, body_buffer_size, max_buffered_bodies");
      }
    }
  }

  void Timeouts(const toml::table& t) {
    const std::string T = "server.timeouts";
    ServerConfig& s = config_->server;
    for (auto&& [key, node] : t) {
      std::string k(key.str());
      if (k == "header_read") {
        if (!Seconds(T, k, node, &s.header_read_timeout)) return;
      } else if (k == "idle") {
        if (!Seconds(T, k, node, &s.idle_timeout)) return;
      } else if (k == "request") {
        if (!Seconds(T, k, node, &s.request_timeout)) return;
      } else {
        return Unknown(T, k, "header_read, idle, request");
      }
    }
  }

  static bool ValidPhpSize(std::string_view v) {
    // PHP's memory_limit syntax: "-1", or digits with an optional K/M/G suffix (case-insensitive).
    if (v == "-1") return true;
    size_t i = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == 0 || i > 18) return false;
    if (i == v.size()) return true;
    return i + 1 == v.size() && std::strchr("kKmMgG", v[i]) != nullptr;
  }

  void Php(const toml::table& t) {
    const std::string T = "php";
    PhpConfig& p = config_->php;
    for (auto&& [key, node] : t) {
      std::string k(key.str());
      if (k == "max_execution_time") {
        if (!Integer(T, k, node, 0, 86400, &p.max_execution_time)) return;
      } else if (k == "memory_limit") {
        std::string v;
        if (node.is_integer()) {
          int64_t i = node.as_integer()->get();
          if (i != -1 && i <= 0) return Error(T, k, "expected -1 or a positive byte count");
          v = std::to_string(i);
        } else if (!String(T, k, node, &v)) {
          return;
        }
        if (!ValidPhpSize(v)) {
          return Error(T, k, "invalid PHP memory size " + Quote(v) +
                                 " (expected e.g. \"128M\", \"1G\", \"-1\" or bytes)");
        }
        p.memory_limit = v;
      } else if (k == "ini") {
        if (Table(T, k, node)) PhpIni(*node.as_table());
      } else if (k == "ini_file") {
        std::string path, why;
        if (!Path(T, k, node, &path)) return;
        if (!CheckReadableRegularFile(path, &why)) return Error(T, k, Quote(path) + ": " + why);
        p.ini_file = path;
      } else if (k == "mode") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        if (v == "classic" || v == "fpm") p.mode = PhpMode::kClassic;
        else if (v == "worker") p.mode = PhpMode::kWorker;
        else return Error(T, k, "unknown mode " + Quote(v) + " (expected classic, worker)");
      } else if (k == "worker_script") {
        if (!String(T, k, node, &worker_script_)) return;
        if (worker_script_.empty()) return Error(T, k, "must not be empty");
        if (worker_script_.find('\0') != std::string::npos) {
          return Error(T, k, "must not contain NUL bytes");
        }
      } else if (k == "workers" || k == "worker_count") {
        int64_t v;
        if (!Alias(T, k, "workers", "worker_count", &workers_key_)) return;
        if (!Integer(T, k, node, 0, 1024, &v)) return;
        p.workers = static_cast<int>(v);
      } else if (k == "max_requests" || k == "worker_max_requests") {
        int64_t v;
        if (!Alias(T, k, "max_requests", "worker_max_requests", &max_requests_key_)) return;
        if (!Integer(T, k, node, 0, INT64_MAX, &v)) return;
        p.max_requests = static_cast<uint64_t>(v);
      } else {
        return Unknown(T, k,
                       "max_execution_time, memory_limit, ini, ini_file, mode, worker_script, "
                       "workers (worker_count), max_requests (worker_max_requests)");
      }
      if (failed()) return;
    }
  }

  // ePHPm's names for a key are accepted as the same key; giving both would leave it unclear
  // which one wins. *seen remembers the name used first.
  bool Alias(const std::string& table, const std::string& key, const char* ours,
             const char* ephpm, std::string* seen) {
    if (!seen->empty() && *seen != key) {
      Error(table, key, std::string("same setting as [") + table + "] " + *seen + " (" + ours +
                            " and ePHPm's " + ephpm + " are one key); give only one");
      return false;
    }
    *seen = key;
    return true;
  }

  void PhpIni(const toml::table& t) {
    const std::string T = "php.ini";
    for (auto&& [ik, iv] : t) {
      std::string name(ik.str());
      std::string value;
      // Each pair becomes one "name=value" line of PHP's INI parser: a newline or NUL would
      // end it early or inject another directive.
      if (name.empty() || name.find_first_of("=\n\r\0\"[]; ", 0, 9) != std::string::npos) {
        return Error(T, name, "invalid INI directive name (no =, quotes, [], ;, spaces, "
                              "newlines or NUL bytes)");
      }
      if (iv.is_string()) {
        value = iv.as_string()->get();
      } else if (iv.is_integer()) {
        value = std::to_string(iv.as_integer()->get());
      } else if (iv.is_floating_point()) {
        std::ostringstream s;
        s << iv.as_floating_point()->get();
        value = s.str();
      } else if (iv.is_boolean()) {
        value = iv.as_boolean()->get() ? "1" : "0";
      } else {
        return Error(T, name,
                     std::string("expected a string, number or boolean, got ") + TypeName(iv));
      }
      if (value.find_first_of("\n\r\0", 0, 3) != std::string::npos) {
        return Error(T, name, "value " + Quote(value) + " must not contain newlines or NUL bytes");
      }
      config_->php.ini.emplace_back(std::move(name), std::move(value));
    }
  }

  // After the whole document: worker_script is relative to [server] document_root, which may
  // come later in the file. Whether the file exists is checked by CheckServeFiles(), after
  // --document-root.
  void WorkerScript() {
    if (failed()) return;
    PhpConfig& p = config_->php;
    if (worker_script_.empty()) {
      if (p.mode == PhpMode::kWorker) {
        Error("php", "worker_script",
              "required when [php] mode = \"worker\" (the script, relative to document_root, "
              "that calls ephpm_handle_request())");
      }
      return;
    }
    const std::string& root = config_->server.document_root;
    std::string script = AbsolutePath(worker_script_, root);
    if (script.rfind(root == "/" ? "/" : root + "/", 0) != 0 || script == root) {
      return Error("php", "worker_script",
                   Quote(worker_script_) + " is not a file inside the document root " +
                       Quote(root));
    }
    if (p.mode == PhpMode::kClassic) {
      Warn("php", "worker_script", "ignored: [php] mode is \"classic\"");
    }
    p.worker_script = script;
  }

  void Kv(const toml::table& t) {
    const std::string T = "kv";
    kv::Options& o = config_->kv.options;
    for (auto&& [key, node] : t) {
      std::string k(key.str());
      if (k == "memory_limit") {
        uint64_t v;
        if (!Size(T, k, node, 0, UINT64_MAX, &v, "256MB", ", 0 = unlimited")) return;
        if (v != 0 && v < kv::kMinMemoryLimit) {
          return Error(T, k, "size " + std::to_string(v) + " bytes is below the minimum of " +
                                 std::to_string(kv::kMinMemoryLimit) +
                                 " bytes (1MB); use 0 for unlimited");
        }
        // The store is shared memory backed by RAM; more than the machine has cannot be meant.
        uint64_t ram = PhysicalMemoryBytes();
        if (ram != 0 && v > ram) {
          return Error(T, k, "size " + std::to_string(v) + " bytes is more than this machine's "
                                 "physical memory (" + std::to_string(ram) + " bytes)");
        }
        o.memory_limit = v;
      } else if (k == "eviction_policy") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        auto policy = kv::ParseEvictionPolicy(v);
        if (!policy) {
          return Error(T, k, "unknown policy " + Quote(v) +
                                 " (expected noeviction, allkeys-lru, volatile-lru, "
                                 "allkeys-random)");
        }
        o.eviction_policy = *policy;
      } else if (k == "shards") {
        int64_t v;
        if (!Integer(T, k, node, 1, 4096, &v)) return;
        if ((v & (v - 1)) != 0) {
          return Error(T, k, "must be a power of two between 1 and 4096, got " +
                                 std::to_string(v));
        }
        o.shards = static_cast<uint32_t>(v);
      } else if (k == "compression") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        auto compression = kv::ParseCompression(v);
        if (!compression) {
          return Error(T, k, "unknown algorithm " + Quote(v) + " (expected none, gzip, brotli, zstd)");
        }
        o.compression = *compression;
      } else if (k == "compression_level") {
        int64_t v;
        if (!Integer(T, k, node, 0, 22, &v)) return;
        o.compression_level = static_cast<int>(v);
      } else if (k == "compression_min_size") {
        if (!Size(T, k, node, 0, UINT32_MAX, &o.compression_min_size)) return;
      } else if (k == "secret") {
        Warn(T, k, "ePHPm setting not implemented by ephpm; accepted and ignored");
      } else if (k == "redis_compat") {
        if (!Table(T, k, node)) return;
        RedisCompatIssues issues;
        bool ok = LoadRedisCompat(*node.as_table(), &config_->kv.redis_compat, &issues);
        for (const auto& [key, why] : issues.warnings) Warn("kv.redis_compat", key, why);
        if (!ok) return Error("kv.redis_compat", issues.error_key, issues.error);
      } else if (k == "enabled") {
        Warn(T, k, "ignored: the store is always on");
      } else {
        Warn(T, k, "unknown key, ignored (known: memory_limit, eviction_policy, shards, "
                   "compression, compression_level, compression_min_size)");
      }
      if (failed()) return;
    }
    std::string why = kv::CheckCompression(o);  // the level's range depends on the algorithm
    if (!why.empty()) Error(T, "compression_level", why);
  }

  void Log(const toml::table& t) {
    const std::string T = "log";
    LogConfig& l = config_->log;
    for (auto&& [key, node] : t) {
      std::string k(key.str());
      if (k == "level") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
        bool ok = false;
        for (const char* lv : kLevels) ok = ok || v == lv;
        if (!ok) {
          return Error(T, k,
                       "unknown level " + Quote(v) + " (expected trace, debug, info, warn, "
                                                     "error, off)");
        }
        l.level = v;
      } else if (k == "access_log") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        if (v.empty() || v == "-") {
          l.access_log = v;
        } else if (!Path(T, k, node, &l.access_log)) {
          return;
        }
      } else if (k == "access_log_format") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        if (!ParseAccessLogFormat(v, &l.access_log_format)) {
          return Error(T, k, "unknown format " + Quote(v) +
                                 " (expected common_duration, common, combined, json)");
        }
      } else {
        return Unknown(T, k, "level, access_log, access_log_format");
      }
    }
  }

  std::string file_;
  std::string base_dir_;
  Config* config_;
  LoadResult result_;
  std::string worker_script_;     // [php] worker_script as written
  std::string workers_key_;       // "workers" or "worker_count", whichever was given
  std::string max_requests_key_;  // "max_requests" or "worker_max_requests"
};

}  // namespace

LoadResult LoadFromString(std::string_view text, const std::string& display_name,
                          const std::string& base_dir, Config* config) {
  Config fresh;
  fresh.base_dir = base_dir.empty() ? Cwd() : base_dir;
  fresh.server.document_root = AbsolutePath("public", fresh.base_dir);
  Loader loader(display_name, fresh.base_dir, &fresh);
  LoadResult r = loader.Run(text);
  if (r.ok) *config = std::move(fresh);
  return r;
}

}  // namespace ephpm::config
