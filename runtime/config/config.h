// ephpm.toml: loading and validation, shared by `ephpm serve` and `ephpm php`.
//
// Rules (documented for users in runtime/http/README.md):
//  * A missing config file means built-in defaults, unless the path was given explicitly
//    (`--config`, EPHPM_CONFIG): then it is an error.
//  * Relative paths inside the file (document_root, php.ini_file, log.access_log) are resolved
//    against the directory that contains the config file. Without a config file they are relative
//    to the current directory. [php] worker_script is relative to document_root (as in ePHPm).
//  * Unknown tables and keys are errors, except in [kv], where ePHPm's keys that we do not
//    implement (secret, [kv.redis_compat] socket) and any other unknown key are accepted with a
//    warning so ePHPm configs still load.
//  * Every error names the file, the table and key, and the reason, e.g.
//      ephpm.toml: [kv] eviction_policy: unknown policy "lru" (expected noeviction, allkeys-lru,
//      volatile-lru, allkeys-random)
//    Keys and values are quoted and escaped in messages, so a NUL or newline in them can neither
//    cut a message short nor forge a second line.
//  * Files are read only if they are regular files of at most kMaxConfigFileBytes (the config
//    file and [php] ini_file): a FIFO, /dev/zero or a directory is an error, never a hang or an
//    unbounded read.
#ifndef EPHPM_RUNTIME_CONFIG_CONFIG_H_
#define EPHPM_RUNTIME_CONFIG_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/kv/store.h"

namespace ephpm::config {

// The config file and [php] ini_file may not be larger than this (1 MB).
constexpr uint64_t kMaxConfigFileBytes = 1ull << 20;

// What to do with a request path that has a segment starting with '.' (.env, .git/config).
enum class HiddenFiles { kDeny, kIgnore, kAllow };  // 403, 404, served normally
const char* HiddenFilesName(HiddenFiles policy);

struct ListenAddress {
  std::string host;  // IPv4 literal, IPv6 literal (without brackets) or a host name
  uint16_t port = 0;  // 0 = pick a free port (the chosen one is printed)
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  ListenAddress listen_address{"127.0.0.1", 8080};
  // Absolute (made so by the loader), not necessarily existing: `serve` checks it at startup.
  std::string document_root = "./public";
  std::vector<std::string> index_files = {"index.php", "index.html"};
  // URL path of the front controller used when nothing else matches; "" disables the fallback.
  std::string fallback = "/index.php";
  HiddenFiles hidden_files = HiddenFiles::kDeny;
  // Requests waiting for the PHP thread; beyond this the server answers 503 + Retry-After.
  int php_queue_size = 128;
  // [server.request]
  uint64_t max_body_size = 8ull << 20;    // 413 above this
  uint64_t max_header_size = 8ull << 10;  // 431 above this (request line + all headers)
  // A body larger than this is written to an unlinked temp file while it is read (nginx's
  // client_body_buffer_size); smaller ones stay in memory.
  uint64_t body_buffer_size = 64ull << 10;
  // Bytes of request bodies held in memory across all connections of a worker process; a body
  // that would go beyond it gets 503 + Retry-After.
  uint64_t max_buffered_bodies = 64ull << 20;
  // [server.timeouts], seconds
  double header_read_timeout = 10;  // from the first byte of a request to the end of its headers
  double idle_timeout = 60;         // keep-alive wait for the next request
  double request_timeout = 60;      // reading the body and writing the response (I/O side)
  // Threads that run the sockets, parsing, routing and static files. 0 = auto: one per CPU
  // minus the one the PHP thread needs (at least 1).
  int io_threads = 0;
};

// How a worker process runs PHP: a fresh script per request (classic), or one long-running
// worker script that handles many requests (worker; see runtime/http/README.md, Worker mode).
enum class PhpMode { kClassic, kWorker };
const char* PhpModeName(PhpMode mode);

struct PhpConfig {
  PhpMode mode = PhpMode::kClassic;  // [php] mode; ePHPm's "fpm" means classic
  // Absolute path inside server.document_root ("" in classic mode without the key). Written
  // relative to document_root; required in worker mode. Its existence is checked by
  // CheckServeFiles(), because --document-root can still move it.
  std::string worker_script;
  int64_t max_execution_time = 30;  // wall-clock seconds per request, 0 = unlimited (watchdog)
  std::string memory_limit = "128M";  // passed to PHP as INI memory_limit
  // [php.ini]: INI overrides, appended after ephpm's hard-coded INI (last wins), in file order.
  std::vector<std::pair<std::string, std::string>> ini;
  std::string ini_file;  // absolute path or "" (Debian's embed php.ini)
  // PHP worker processes; 0 = one per CPU (resolved by `serve`). 1 with max_requests = 0 is the
  // single-process mode (no supervisor); anything else forks supervised workers.
  int workers = 0;            // alias worker_count (ePHPm)
  uint64_t max_requests = 0;  // recycle a worker after this many PHP requests, 0 = never;
                              // alias worker_max_requests (ePHPm)
};

// [kv.redis_compat]: the Redis-protocol listener on the store (runtime/resp). ePHPm's keys and
// defaults.
struct RedisCompatConfig {
  bool enabled = false;
  std::string listen = "127.0.0.1:6379";
  ListenAddress listen_address{"127.0.0.1", 6379};
  // Required (AUTH) when listen is not a loopback address; "" = no AUTH.
  std::string password;
  uint64_t max_connections = 1000;       // 0 = unlimited
  uint64_t idle_timeout_secs = 300;      // 0 = never
  uint64_t max_input_buffer = 1u << 20;  // bytes buffered per connection (one command's frame)
};

struct KvConfig {
  kv::Options options;  // memory_limit, eviction_policy, shards, compression*
  RedisCompatConfig redis_compat;
};

// [log] access_log_format: the common log format followed by the response time in microseconds
// (what ephpm always wrote, the default), the plain common log format, nginx's "combined"
// (common plus referer and user agent), or one JSON object per line (runtime/http/access_log.h).
enum class AccessLogFormat { kCommonDuration, kCommon, kCombined, kJson };
const char* AccessLogFormatName(AccessLogFormat format);
bool ParseAccessLogFormat(std::string_view name, AccessLogFormat* out);

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
  std::string access_log;      // "" = off, "-" = stdout, else an absolute file path
  AccessLogFormat access_log_format = AccessLogFormat::kCommonDuration;
};

// [metrics]: the operator's endpoint (runtime/http/metrics_server.h).
struct MetricsConfig {
  std::string listen;  // "" = no metrics listener
  ListenAddress listen_address;
};

struct Config {
  // The file the values came from: absolute path, or "" when built-in defaults were used.
  std::string source_path;
  // The directory relative paths are resolved against.
  std::string base_dir;
  ServerConfig server;
  PhpConfig php;
  KvConfig kv;
  LogConfig log;
  MetricsConfig metrics;
};

struct LoadResult {
  bool ok = false;
  std::string error;                  // when !ok: "file: [table] key: reason"
  std::vector<std::string> warnings;  // same format; print them at startup
};

// Which config file applies, the one rule for `serve` and `php`: the --config flag, else
// $EPHPM_CONFIG (both explicit: the file must exist), else ./ephpm.toml (optional: Load() gives
// the built-in defaults when it does not exist).
struct ConfigLocation {
  std::string path;
  bool explicit_path = false;
};
ConfigLocation Locate(const std::string& flag_path);

// Loads `path`. explicit_path: the user named the file (then a missing file is an error);
// otherwise a missing file gives the defaults with base_dir = current directory.
LoadResult Load(const std::string& path, bool explicit_path, Config* config);

// Parses TOML text. display_name is used in messages; base_dir resolves relative paths.
LoadResult LoadFromString(std::string_view text, const std::string& display_name,
                          const std::string& base_dir, Config* config);

// Checks what only `serve` uses and what depends on the final document root (after
// --document-root): [php] worker_script exists as a regular file inside the document root, and
// [log] access_log can be opened for appending (or created). Returns false with a message in
// the same "file: [table] key: reason" form.
bool CheckServeFiles(const Config& config, std::string* error);

// "host:port", "[v6]:port". Returns false with a reason ("expected host:port") otherwise.
bool ParseListenAddress(std::string_view text, ListenAddress* out, std::string* reason);

// Command-line overrides (`serve --listen`, `--document-root`); relative paths are resolved
// against the current directory. Returns false with an error message.
bool ApplyListenOverride(const std::string& listen, Config* config, std::string* error);
bool ApplyDocumentRootOverride(const std::string& dir, Config* config, std::string* error);

// Resolves `path` against `base` ("" = current directory) and normalises "." and "..";
// does not touch the file system except for getcwd.
std::string AbsolutePath(const std::string& path, const std::string& base);

}  // namespace ephpm::config

#endif  // EPHPM_RUNTIME_CONFIG_CONFIG_H_
