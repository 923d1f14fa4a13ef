// Request-target validation and routing (docs/embedding-php.md section 14). No sockets, no PHP:
// pure functions over the request target and the file system, unit-tested in
// runtime/tests/http/router_test.cc.
#ifndef EPHPM_RUNTIME_HTTP_ROUTER_H_
#define EPHPM_RUNTIME_HTTP_ROUTER_H_

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config/config.h"

namespace ephpm::http {

// Splits an origin-form target into raw path and raw query, percent-decodes the path exactly
// once and validates it. On failure returns false and *reason says why (the caller answers 400).
// Rules: the path must start with '/'; every '%' must be followed by two hex digits; the decoded
// path must not contain '/' or '\' produced by an escape (%2F, %5C), any '\', NUL or other
// control bytes, invalid UTF-8 (overlong forms, surrogates, > U+10FFFF), or a "." or ".."
// segment. Repeated slashes are merged. An absolute-form target ("http://host/p") is reduced to
// its path first.
struct Target {
  std::string raw_path;   // as received (before decoding), without the query
  std::string query;      // raw, without '?', "" when absent
  std::string path;       // decoded, validated, merged slashes, starts with '/'
  bool trailing_slash = false;
};
bool ParseTarget(std::string_view raw, Target* out, std::string* reason);

// True when s is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool ValidUtf8(std::string_view s);

// ASCII case-insensitive ".php" suffix test.
bool HasPhpExtension(std::string_view name);

enum class RouteKind {
  kStatic,    // file: serve from the I/O thread
  kPhp,       // run script_filename in PHP
  kRedirect,  // 308 to location
  kError,     // status (400, 403, 404, 405)
};

struct Route {
  RouteKind kind = RouteKind::kError;
  int status = 404;
  std::string file;             // realpath of the static file or the script
  std::string script_name;      // URL path of the script (SCRIPT_NAME)
  std::string path_info;        // "" or "/…"
  std::string location;         // for kRedirect
  std::string reason;           // for logs / error bodies
};

// Routes validated targets against one document root. Thread-safe; used from every I/O thread.
class Router {
 public:
  explicit Router(const config::ServerConfig& server);

  // Must succeed once at startup: the document root must exist and be a directory.
  bool Init(std::string* error);

  // method is only used for the static-file method check (GET/HEAD, else 405).
  Route Resolve(std::string_view method, const Target& target);

  // realpath of the document root (refreshed at most once a second, so an atomic-deploy symlink
  // flip is seen).
  std::string DocumentRoot();

 private:
  bool IsHidden(std::string_view path) const;  // any segment starting with '.'
  Route HiddenRoute() const;
  // realpath + containment; "" when outside the document root or missing.
  std::string Contained(const std::string& root, const std::string& candidate) const;
  Route PhpRoute(const std::string& root, const std::string& url_script,
                 const std::string& path_info, std::string_view method);
  Route StaticRoute(const std::string& root, const std::string& url_path,
                    std::string_view method);
  Route Fallback(const std::string& root, std::string_view method);

  const config::ServerConfig& server_;
  std::mutex mu_;
  std::string root_real_;
  std::chrono::steady_clock::time_point root_checked_{};
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_ROUTER_H_
