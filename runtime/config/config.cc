#include "runtime/config/config.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include <toml++/toml.h>

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

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
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
      } else if (node.is_table()) {
        Error("[" + k + "]", "unknown table (expected [server], [php], [kv], [log])");
      } else {
        Error(k, "unknown top-level key (settings belong in [server], [php], [kv] or [log])");
      }
      if (!result_.error.empty()) return std::move(result_);
    }
    result_.ok = result_.error.empty();
    return std::move(result_);
  }

 private:
  // "[server.request] max_body_size" or "[server]" (key empty) or "top" (table empty).
  static std::string Where(const std::string& table, const std::string& key) {
    if (table.empty()) return key;
    if (key.empty()) return "[" + table + "]";
    return "[" + table + "] " + key;
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
    std::string name = parent.empty() ? key : parent + "." + key;
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
  // A byte size: integer bytes or a string "<digits>[KB|MB|GB]".
  bool Size(const std::string& table, const std::string& key, const toml::node& node,
            uint64_t min, uint64_t max, uint64_t* out) {
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
                  "; expected bytes or <digits>KB|MB|GB");
        return false;
      }
    } else {
      Error(table, key,
            std::string("expected a size (integer bytes or a string like \"8MB\"), got ") +
                TypeName(node));
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
      } else {
        return Unknown(T, k, "max_body_size, max_header_size");
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
        if (!Table(T, k, node)) return;
        for (auto&& [ik, iv] : *node.as_table()) {
          std::string name(ik.str());
          std::string value;
          if (name.empty() || name.find_first_of("=\n\r\0\"[]; ", 0, 9) != std::string::npos) {
            return Error("php.ini", name, "invalid INI directive name");
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
            return Error("php.ini", name,
                         std::string("expected a string, number or boolean, got ") +
                             TypeName(iv));
          }
          if (value.find_first_of("\n\r\0", 0, 3) != std::string::npos) {
            return Error("php.ini", name, "value must not contain newlines or NUL bytes");
          }
          p.ini.emplace_back(std::move(name), std::move(value));
        }
      } else if (k == "ini_file") {
        std::string path;
        if (!Path(T, k, node, &path)) return;
        struct stat st;
        if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
          return Error(T, k, "file " + Quote(path) + " does not exist or is not a regular file");
        }
        p.ini_file = path;
      } else if (k == "workers") {
        int64_t v;
        if (!Integer(T, k, node, 0, 1024, &v)) return;
        p.workers = static_cast<int>(v);
      } else if (k == "max_requests") {
        int64_t v;
        if (!Integer(T, k, node, 0, INT64_MAX, &v)) return;
        p.max_requests = static_cast<uint64_t>(v);
      } else if (k == "mode") {
        std::string v;
        if (!String(T, k, node, &v)) return;
        if (v == "classic" || v == "fpm") {
          p.mode = PhpMode::kClassic;
        } else if (v == "worker") {
          p.mode = PhpMode::kWorker;
        } else {
          return Error(T, k, "unknown mode " + Quote(v) + " (expected \"classic\" or \"worker\")");
        }
      } else if (k == "worker_script") {
        if (!String(T, k, node, &p.worker_script)) return;
      } else {
        return Unknown(T, k,
                       "mode, worker_script, max_execution_time, memory_limit, ini, ini_file, "
                       "workers, max_requests");
      }
      if (failed()) return;
    }
  }

  void Kv(const toml::table& t) {
    const std::string T = "kv";
    kv::Options& o = config_->kv.options;
    for (auto&& [key, node] : t) {
      std::string k(key.str());
      if (k == "memory_limit") {
        uint64_t v;
        if (node.is_string()) {
          std::string why;
          const std::string& text = node.as_string()->get();
          if (!kv::ParseMemorySize(text, &v, &why)) {
            return Error(T, k, "invalid size " + Quote(text) +
                                   (why.empty() ? "" : " (" + why + ")") +
                                   "; expected bytes or <digits>KB|MB|GB, 0 = unlimited");
          }
        } else if (node.is_integer()) {
          int64_t i = node.as_integer()->get();
          if (i < 0) return Error(T, k, "size must not be negative, got " + std::to_string(i));
          v = static_cast<uint64_t>(i);
        } else {
          return Error(T, k,
                       std::string("expected a size (integer bytes or a string like "
                                   "\"256MB\"), got ") + TypeName(node));
        }
        if (v != 0 && v < kv::kMinMemoryLimit) {
          return Error(T, k, "size " + std::to_string(v) + " bytes is below the minimum of " +
                                 std::to_string(kv::kMinMemoryLimit) +
                                 " bytes (1MB); use 0 for unlimited");
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
      } else if (k == "compression" || k == "compression_level" ||
                 k == "compression_min_size" || k == "secret") {
        Warn(T, k, "ePHPm setting not implemented by ephpm; accepted and ignored");
      } else if (k == "redis_compat") {
        Warn(T, "", "[kv.redis_compat]: ePHPm's Redis-protocol listener is not implemented by "
                    "ephpm; table accepted and ignored");
      } else if (k == "enabled") {
        Warn(T, k, "ignored: the store is always on");
      } else {
        Warn(T, k, "unknown key, ignored (known: memory_limit, eviction_policy, shards)");
      }
      if (failed()) return;
    }
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
      } else {
        return Unknown(T, k, "level, access_log");
      }
    }
  }

  std::string file_;
  std::string base_dir_;
  Config* config_;
  LoadResult result_;
};

std::string Cwd() {
  std::string buf(4096, '\0');
  if (getcwd(buf.data(), buf.size()) == nullptr) return "/";
  buf.resize(strlen(buf.c_str()));
  return buf;
}

}  // namespace

const char* HiddenFilesName(HiddenFiles policy) {
  switch (policy) {
    case HiddenFiles::kDeny: return "deny";
    case HiddenFiles::kIgnore: return "ignore";
    case HiddenFiles::kAllow: return "allow";
  }
  return "?";
}

std::string AbsolutePath(const std::string& path, const std::string& base) {
  std::string joined;
  if (!path.empty() && path[0] == '/') {
    joined = path;
  } else {
    joined = (base.empty() ? Cwd() : base) + "/" + path;
  }
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= joined.size()) {
    size_t j = joined.find('/', i);
    if (j == std::string::npos) j = joined.size();
    std::string seg = joined.substr(i, j - i);
    if (seg.empty() || seg == ".") {
    } else if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

bool ParseListenAddress(std::string_view text, ListenAddress* out, std::string* reason) {
  std::string_view host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      *reason = "invalid address \"" + std::string(text) + "\" (expected [ipv6]:port)";
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      *reason = "invalid address \"" + std::string(text) +
                "\" (expected host:port, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) {
    *reason = "invalid address \"" + std::string(text) +
              "\": missing host (use 0.0.0.0 for all interfaces)";
    return false;
  }
  for (char c : host) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '%' ||
          c == '_')) {
      *reason = "invalid host in \"" + std::string(text) + "\"";
      return false;
    }
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoul(std::string(port)) > 65535) {
    *reason = "invalid port in \"" + std::string(text) + "\" (expected 0..65535)";
    return false;
  }
  out->host = std::string(host);
  out->port = static_cast<uint16_t>(std::stoul(std::string(port)));
  return true;
}

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

LoadResult Load(const std::string& path, bool explicit_path, Config* config) {
  LoadResult r;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (!explicit_path && err == ENOENT) {
      Config fresh;
      fresh.base_dir = Cwd();
      fresh.server.document_root = AbsolutePath("public", fresh.base_dir);
      *config = std::move(fresh);
      r.ok = true;
      return r;
    }
    r.error = path + ": cannot read config file: " + std::strerror(err);
    return r;
  }
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    r.error = path + ": cannot read config file: is a directory";
    return r;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string abs = AbsolutePath(path, "");
  std::string dir = abs.substr(0, abs.rfind('/'));
  if (dir.empty()) dir = "/";
  r = LoadFromString(buf.str(), path, dir, config);
  if (r.ok) config->source_path = abs;
  return r;
}

bool ApplyListenOverride(const std::string& listen, Config* config, std::string* error) {
  std::string why;
  if (!ParseListenAddress(listen, &config->server.listen_address, &why)) {
    *error = "--listen: " + why;
    return false;
  }
  config->server.listen = listen;
  return true;
}

bool ApplyDocumentRootOverride(const std::string& dir, Config* config, std::string* error) {
  if (dir.empty()) {
    *error = "--document-root: must not be empty";
    return false;
  }
  config->server.document_root = AbsolutePath(dir, "");
  return true;
}

}  // namespace ephpm::config
