#include "runtime/http/router.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <unordered_map>

namespace ephpm::http {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// What the file system said about a path, per I/O thread, each answer reused for at most
// kPathFactsTtl (PHP's own realpath cache keeps entries for 120 s; nginx's open_file_cache_valid
// is 60 s by default). On the hot path a static request used to pay a stat and a realpath (which
// walks every component with readlink), a front-controller request two stats. Only what exists
// is remembered: a file that appears is routed at once, one that disappears or changes type is
// seen within kPathFactsTtl. The containment check still runs on every request, on the
// remembered resolution.
constexpr auto kPathFactsTtl = std::chrono::seconds(1);
constexpr size_t kPathFactsMax = 4096;  // entries per thread; when full the cache starts over

struct PathFacts {
  mode_t type = 0;   // S_IFMT bits of stat(); 0 = not asked yet
  std::string real;  // realpath(); empty = not asked yet
  std::chrono::steady_clock::time_point at;
};

// The fresh entry for `path`, created empty when absent or older than kPathFactsTtl.
PathFacts& FactsOf(const std::string& path) {
  thread_local std::unordered_map<std::string, PathFacts> cache;
  auto now = std::chrono::steady_clock::now();
  auto it = cache.find(path);
  if (it != cache.end() && now - it->second.at < kPathFactsTtl) return it->second;
  if (it == cache.end() && cache.size() >= kPathFactsMax) cache.clear();
  PathFacts& facts = cache[path];
  facts = PathFacts{0, {}, now};
  return facts;
}

// The S_IFMT bits of stat(p), or 0 when stat fails.
mode_t FileType(const std::string& p) {
  PathFacts& facts = FactsOf(p);
  if (facts.type != 0) return facts.type;
  struct stat st;
  if (stat(p.c_str(), &st) != 0) return 0;
  facts.type = st.st_mode & S_IFMT;
  return facts.type;
}

bool IsRegular(const std::string& p) { return FileType(p) == S_IFREG; }

bool CachedRealpath(const std::string& path, std::string* out) {
  PathFacts& facts = FactsOf(path);
  if (facts.real.empty()) {
    char buf[PATH_MAX];
    if (realpath(path.c_str(), buf) == nullptr) return false;
    facts.real = buf;
  }
  *out = facts.real;
  return true;
}

Route Error(int status, std::string reason) {
  Route r;
  r.kind = RouteKind::kError;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

bool ValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, overlong lead (C0/C1) or > F4
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

bool HasPhpExtension(std::string_view name) {
  if (name.size() < 4) return false;
  std::string_view ext = name.substr(name.size() - 4);
  return ext[0] == '.' && (ext[1] | 0x20) == 'p' && (ext[2] | 0x20) == 'h' &&
         (ext[3] | 0x20) == 'p';
}

bool ParseTarget(std::string_view raw, Target* out, std::string* reason) {
  if (raw.substr(0, 7) == "http://" || raw.substr(0, 8) == "https://") {
    size_t start = raw.find("//") + 2;
    size_t slash = raw.find_first_of("/?", start);
    if (slash == std::string_view::npos) {
      raw = "/";
    } else if (raw[slash] == '?') {
      static thread_local std::string tmp;
      tmp = "/" + std::string(raw.substr(slash));
      raw = tmp;
    } else {
      raw = raw.substr(slash);
    }
  }
  if (raw.empty() || raw[0] != '/') {
    *reason = "request target must start with '/'";
    return false;
  }
  size_t q = raw.find('?');
  std::string_view raw_path = raw.substr(0, q);
  out->raw_path = std::string(raw_path);
  out->query = q == std::string_view::npos ? std::string() : std::string(raw.substr(q + 1));
  std::string decoded;
  decoded.reserve(raw_path.size());
  for (size_t i = 0; i < raw_path.size(); ++i) {
    char c = raw_path[i];
    if (c == '%') {
      if (i + 2 >= raw_path.size()) {
        *reason = "malformed percent-escape";
        return false;
      }
      int hi = Hex(raw_path[i + 1]);
      int lo = Hex(raw_path[i + 2]);
      if (hi < 0 || lo < 0) {
        *reason = "malformed percent-escape";
        return false;
      }
      char d = static_cast<char>(hi * 16 + lo);
      if (d == '/' || d == '\\') {
        *reason = "encoded '/' or '\\' in the path";
        return false;
      }
      c = d;
      i += 2;
    } else if (c == '\\') {
      *reason = "backslash in the path";
      return false;
    }
    if (c == '\0') {
      *reason = "NUL byte in the path";
      return false;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      *reason = "control character in the path";
      return false;
    }
    decoded += c;
  }
  if (!ValidUtf8(decoded)) {
    *reason = "invalid UTF-8 in the path";
    return false;
  }
  // Merge slashes and reject dot segments.
  std::string path;
  path.reserve(decoded.size());
  size_t i = 0;
  while (i < decoded.size()) {
    if (decoded[i] == '/') {
      ++i;
      continue;
    }
    size_t j = decoded.find('/', i);
    if (j == std::string::npos) j = decoded.size();
    std::string_view seg(decoded.data() + i, j - i);
    if (seg == "." || seg == "..") {
      *reason = "dot segment in the path";
      return false;
    }
    path += '/';
    path.append(seg);
    i = j;
  }
  out->trailing_slash = !path.empty() && decoded.back() == '/';
  if (path.empty() || out->trailing_slash) path += '/';
  out->path = std::move(path);
  return true;
}

Router::Router(const config::ServerConfig& server) : server_(server) {}

bool Router::Init(std::string* error) {
  char buf[PATH_MAX];
  if (realpath(server_.document_root.c_str(), buf) == nullptr) {
    *error = "document root " + server_.document_root + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {  // uncached: start-up and reload ask now
    *error = "document root " + server_.document_root + ": not a directory";
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  root_real_ = buf;
  root_checked_ = std::chrono::steady_clock::now();
  return true;
}

std::string Router::DocumentRoot() {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (now - root_checked_ >= std::chrono::seconds(1)) {
    char buf[PATH_MAX];
    if (realpath(server_.document_root.c_str(), buf) != nullptr) root_real_ = buf;
    root_checked_ = now;
  }
  return root_real_;
}

bool Router::IsHidden(std::string_view path) const {
  size_t i = 0;
  while ((i = path.find("/.", i)) != std::string_view::npos) {
    std::string_view rest = path.substr(i + 1);
    // /.well-known/ (ACME, security.txt) is never hidden.
    if (!(rest.substr(0, 11) == ".well-known" &&
          (rest.size() == 11 || rest[11] == '/'))) {
      return true;
    }
    i += 2;
  }
  return false;
}

Route Router::HiddenRoute() const {
  if (server_.hidden_files == config::HiddenFiles::kIgnore) return Error(404, "hidden file");
  return Error(403, "hidden file");
}

std::string Router::Contained(const std::string& root, const std::string& candidate) const {
  std::string real;
  if (!CachedRealpath(candidate, &real)) return "";
  if (real.size() <= root.size() || real.compare(0, root.size(), root) != 0 ||
      (root != "/" && real[root.size()] != '/')) {
    return "";
  }
  return real;
}

Route Router::PhpRoute(const std::string& root, const std::string& url_script,
                       const std::string& path_info, std::string_view method) {
  std::string real = Contained(root, root + url_script);
  if (real.empty()) return Error(403, "script resolves outside the document root");
  if (!HasPhpExtension(real)) return Error(403, "script resolves to a non-.php file");
  if (server_.hidden_files != config::HiddenFiles::kAllow &&
      IsHidden(std::string_view(real).substr(root == "/" ? 0 : root.size()))) {
    return HiddenRoute();
  }
  Route r;
  r.kind = RouteKind::kPhp;
  r.status = 200;
  r.file = std::move(real);
  r.script_name = url_script;
  r.path_info = path_info;
  return r;
}

Route Router::StaticRoute(const std::string& root, const std::string& url_path,
                          std::string_view method) {
  std::string real = Contained(root, root + url_path);
  if (real.empty()) return Error(403, "file resolves outside the document root");
  if (HasPhpExtension(real)) return Error(403, "PHP source is never served");
  if (server_.hidden_files != config::HiddenFiles::kAllow &&
      IsHidden(std::string_view(real).substr(root == "/" ? 0 : root.size()))) {
    return HiddenRoute();
  }
  if (method != "GET" && method != "HEAD") {
    Route r = Error(405, "static files accept GET and HEAD only");
    return r;
  }
  Route r;
  r.kind = RouteKind::kStatic;
  r.status = 200;
  r.file = std::move(real);
  return r;
}

Route Router::Fallback(const std::string& root, std::string_view method) {
  if (server_.fallback.empty() || !IsRegular(root + server_.fallback)) {
    return Error(404, "not found");
  }
  return PhpRoute(root, server_.fallback, "", method);
}

Route Router::Resolve(std::string_view method, const Target& target) {
  std::string root = DocumentRoot();
  if (root.empty()) return Error(404, "document root unavailable");
  if (root == "/") root = "";  // paths are appended as "/…"
  const std::string& path = target.path;
  if (server_.hidden_files != config::HiddenFiles::kAllow && IsHidden(path)) return HiddenRoute();

  // 1. PATH_INFO split at the first segment ending in ".php" followed by '/'.
  for (size_t i = path.find('/', 1); i != std::string::npos; i = path.find('/', i + 1)) {
    if (HasPhpExtension(std::string_view(path).substr(0, i))) {
      std::string script = path.substr(0, i);
      if (IsRegular(root + script)) return PhpRoute(root, script, path.substr(i), method);
      break;
    }
  }

  // 2. An existing file or directory.
  std::string full = root + path;
  mode_t type = FileType(full);
  if (type != 0) {
    if (type == S_IFREG && !target.trailing_slash) {
      if (HasPhpExtension(path)) return PhpRoute(root, path, "", method);
      return StaticRoute(root, path, method);
    }
    if (type == S_IFDIR) {
      if (!target.trailing_slash && path != "/") {
        for (const auto& index : server_.index_files) {
          if (IsRegular(full + "/" + index)) {
            Route r;
            r.kind = RouteKind::kRedirect;
            r.status = 308;
            r.location = target.raw_path + "/";
            if (!target.query.empty()) r.location += "?" + target.query;
            return r;
          }
        }
      } else {
        std::string dir = path.back() == '/' ? path : path + "/";
        for (const auto& index : server_.index_files) {
          if (IsRegular(root + dir + index)) {
            if (HasPhpExtension(index)) return PhpRoute(root, dir + index, "", method);
            return StaticRoute(root, dir + index, method);
          }
        }
      }
    }
  }

  // 3. Front controller.
  return Fallback(root, method);
}

}  // namespace ephpm::http
