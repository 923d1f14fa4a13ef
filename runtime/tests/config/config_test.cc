// Every ephpm.toml key (default, accepted values) and every error message.
#include "runtime/config/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

namespace ephpm::config {
namespace {

LoadResult Parse(const std::string& text, Config* c) {
  return LoadFromString(text, "ephpm.toml", "/srv/app", c);
}

// Expects a load error equal to `expected`.
void ExpectError(const std::string& text, const std::string& expected) {
  Config c;
  LoadResult r = Parse(text, &c);
  EXPECT_FALSE(r.ok) << text;
  EXPECT_EQ(r.error, expected) << text;
}

// Expects a load error that starts with `prefix`.
void ExpectErrorPrefix(const std::string& text, const std::string& prefix) {
  Config c;
  LoadResult r = Parse(text, &c);
  EXPECT_FALSE(r.ok) << text;
  EXPECT_EQ(r.error.substr(0, prefix.size()), prefix) << "full error: " << r.error;
}

TEST(ConfigDefaults, EmptyFileGivesDocumentedDefaults) {
  Config c;
  LoadResult r = Parse("", &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.server.listen_address.host, "127.0.0.1");
  EXPECT_EQ(c.server.listen_address.port, 8080);
  EXPECT_EQ(c.server.document_root, "/srv/app/public");
  EXPECT_EQ(c.server.index_files, (std::vector<std::string>{"index.php", "index.html"}));
  EXPECT_EQ(c.server.fallback, "/index.php");
  EXPECT_EQ(c.server.hidden_files, HiddenFiles::kDeny);
  EXPECT_EQ(c.server.php_queue_size, 128);
  EXPECT_EQ(c.server.io_threads, 0);
  EXPECT_EQ(c.server.max_body_size, 8u << 20);
  EXPECT_EQ(c.server.max_header_size, 8u << 10);
  EXPECT_EQ(c.server.header_read_timeout, 10);
  EXPECT_EQ(c.server.idle_timeout, 60);
  EXPECT_EQ(c.server.request_timeout, 60);
  EXPECT_EQ(c.php.max_execution_time, 30);
  EXPECT_EQ(c.php.memory_limit, "128M");
  EXPECT_TRUE(c.php.ini.empty());
  EXPECT_EQ(c.php.ini_file, "");
  EXPECT_EQ(c.php.workers, 0);  // 0 = one per CPU
  EXPECT_EQ(c.php.max_requests, 0u);
  EXPECT_EQ(c.kv.options.memory_limit, 256u << 20);
  EXPECT_EQ(c.kv.options.eviction_policy, kv::EvictionPolicy::kAllKeysLru);
  EXPECT_EQ(c.kv.options.shards, 64u);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.access_log, "");
  EXPECT_EQ(c.base_dir, "/srv/app");
}

TEST(ConfigServer, AllKeys) {
  Config c;
  LoadResult r = Parse(R"(
[server]
listen = "0.0.0.0:9000"
document_root = "web"
index_files = ["app.php"]
fallback = "/app.php"
hidden_files = "ignore"
php_queue_size = 4
[server.request]
max_body_size = "100MB"
max_header_size = 16384
[server.timeouts]
header_read = 2.5
idle = 5
request = 120
)", &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(c.server.listen_address.host, "0.0.0.0");
  EXPECT_EQ(c.server.listen_address.port, 9000);
  EXPECT_EQ(c.server.document_root, "/srv/app/web");
  EXPECT_EQ(c.server.index_files, std::vector<std::string>{"app.php"});
  EXPECT_EQ(c.server.fallback, "/app.php");
  EXPECT_EQ(c.server.hidden_files, HiddenFiles::kIgnore);
  EXPECT_EQ(c.server.php_queue_size, 4);
  EXPECT_EQ(c.server.max_body_size, 100u << 20);
  EXPECT_EQ(c.server.max_header_size, 16384u);
  EXPECT_EQ(c.server.header_read_timeout, 2.5);
  EXPECT_EQ(c.server.idle_timeout, 5);
  EXPECT_EQ(c.server.request_timeout, 120);
}

TEST(ConfigServer, DottedTableSyntaxWorks) {
  Config c;
  ASSERT_TRUE(Parse("server.request.max_body_size = \"1KB\"\n", &c).ok);
  EXPECT_EQ(c.server.max_body_size, 1024u);
}

TEST(ConfigServer, ListenForms) {
  Config c;
  ASSERT_TRUE(Parse("[server]\nlisten = \"[::1]:8081\"\n", &c).ok);
  EXPECT_EQ(c.server.listen_address.host, "::1");
  EXPECT_EQ(c.server.listen_address.port, 8081);
  ASSERT_TRUE(Parse("[server]\nlisten = \"localhost:0\"\n", &c).ok);
  EXPECT_EQ(c.server.listen_address.host, "localhost");
  EXPECT_EQ(c.server.listen_address.port, 0);
}

TEST(ConfigServer, ListenErrors) {
  ExpectError("[server]\nlisten = \"8080\"\n",
              "ephpm.toml: [server] listen: invalid address \"8080\" (expected host:port, e.g. "
              "\"127.0.0.1:8080\" or \"[::1]:8080\")");
  ExpectError("[server]\nlisten = \"127.0.0.1:99999\"\n",
              "ephpm.toml: [server] listen: invalid port in \"127.0.0.1:99999\" (expected "
              "0..65535)");
  ExpectError("[server]\nlisten = \":80\"\n",
              "ephpm.toml: [server] listen: invalid address \":80\": missing host (use 0.0.0.0 "
              "for all interfaces)");
  ExpectError("[server]\nlisten = \"::1:80\"\n",
              "ephpm.toml: [server] listen: invalid address \"::1:80\" (expected host:port, e.g. "
              "\"127.0.0.1:8080\" or \"[::1]:8080\")");
  ExpectError("[server]\nlisten = \"[::1]80\"\n",
              "ephpm.toml: [server] listen: invalid address \"[::1]80\" (expected [ipv6]:port)");
  ExpectError("[server]\nlisten = \"a b:80\"\n",
              "ephpm.toml: [server] listen: invalid host in \"a b:80\"");
  ExpectError("[server]\nlisten = 8080\n",
              "ephpm.toml: [server] listen: expected a string, got integer");
}

TEST(ConfigServer, DocumentRootRules) {
  Config c;
  ASSERT_TRUE(Parse("[server]\ndocument_root = \"/var/www/../www/html/\"\n", &c).ok);
  EXPECT_EQ(c.server.document_root, "/var/www/html");
  ASSERT_TRUE(Parse("[server]\ndocument_root = \"../common/public\"\n", &c).ok);
  EXPECT_EQ(c.server.document_root, "/srv/common/public");
  ExpectError("[server]\ndocument_root = \"\"\n",
              "ephpm.toml: [server] document_root: must not be empty");
  ExpectError("[server]\ndocument_root = [\"a\"]\n",
              "ephpm.toml: [server] document_root: expected a string, got array");
}

TEST(ConfigServer, IndexFilesErrors) {
  ExpectError("[server]\nindex_files = \"index.php\"\n",
              "ephpm.toml: [server] index_files: expected an array of file names, got string");
  ExpectError("[server]\nindex_files = [1]\n",
              "ephpm.toml: [server] index_files: expected an array of strings, found a integer");
  ExpectError("[server]\nindex_files = [\"a/index.php\"]\n",
              "ephpm.toml: [server] index_files: invalid index file name \"a/index.php\" (a "
              "plain file name without slashes)");
  ExpectError("[server]\nindex_files = [\"..\"]\n",
              "ephpm.toml: [server] index_files: invalid index file name \"..\" (a plain file "
              "name without slashes)");
  Config c;
  ASSERT_TRUE(Parse("[server]\nindex_files = []\n", &c).ok);
  EXPECT_TRUE(c.server.index_files.empty());
}

TEST(ConfigServer, FallbackRules) {
  Config c;
  ASSERT_TRUE(Parse("[server]\nfallback = \"\"\n", &c).ok);
  EXPECT_EQ(c.server.fallback, "");
  for (const char* bad : {"index.php", "/../x.php", "/a/", "/i.php?x=1", "/a\\\\b.php"}) {
    Config d;
    LoadResult r = Parse(std::string("[server]\nfallback = \"") + bad + "\"\n", &d);
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_NE(r.error.find("ephpm.toml: [server] fallback: invalid fallback"), std::string::npos)
        << r.error;
  }
}

TEST(ConfigServer, HiddenFiles) {
  Config c;
  ASSERT_TRUE(Parse("[server]\nhidden_files = \"allow\"\n", &c).ok);
  EXPECT_EQ(c.server.hidden_files, HiddenFiles::kAllow);
  ASSERT_TRUE(Parse("[server]\nhidden_files = \"deny\"\n", &c).ok);
  EXPECT_EQ(c.server.hidden_files, HiddenFiles::kDeny);
  ExpectError("[server]\nhidden_files = \"Deny\"\n",
              "ephpm.toml: [server] hidden_files: unknown policy \"Deny\" (expected deny, "
              "ignore, allow)");
  EXPECT_STREQ(HiddenFilesName(HiddenFiles::kIgnore), "ignore");
}

TEST(ConfigServer, UnknownKeysAreErrors) {
  ExpectError("[server]\nport = 80\n",
              "ephpm.toml: [server] port: unknown key (expected one of: listen, document_root, "
              "index_files, fallback, hidden_files, io_threads, php_queue_size, "
              "[server.request], [server.timeouts])");
  ExpectError("[server.request]\nmax_bodysize = 1\n",
              "ephpm.toml: [server.request] max_bodysize: unknown key (expected one of: "
              "max_body_size, max_header_size, body_buffer_size, max_buffered_bodies)");
  ExpectError("[server.timeouts]\nread = 1\n",
              "ephpm.toml: [server.timeouts] read: unknown key (expected one of: header_read, "
              "idle, request)");
  ExpectError("[server]\nrequest = 5\n",
              "ephpm.toml: [server.request]: expected a table, got integer");
}

TEST(ConfigServer, IoThreads) {
  Config c;
  ASSERT_TRUE(Parse("[server]\nio_threads = 3\n", &c).ok);
  EXPECT_EQ(c.server.io_threads, 3);
  ExpectError("[server]\nio_threads = -1\n",
              "ephpm.toml: [server] io_threads: value -1 out of range (0..256)");
}

TEST(ConfigServer, PhpQueueSize) {
  ExpectError("[server]\nphp_queue_size = 0\n",
              "ephpm.toml: [server] php_queue_size: value 0 out of range (1..65536)");
  ExpectError("[server]\nphp_queue_size = \"8\"\n",
              "ephpm.toml: [server] php_queue_size: expected an integer, got string");
}

TEST(ConfigServer, BodyBuffering) {
  Config c;
  ASSERT_TRUE(Parse("", &c).ok);
  EXPECT_EQ(c.server.body_buffer_size, 64u << 10);
  EXPECT_EQ(c.server.max_buffered_bodies, 64u << 20);
  ASSERT_TRUE(Parse("[server.request]\nbody_buffer_size = \"1MB\"\n"
                    "max_buffered_bodies = \"2GB\"\n",
                    &c)
                  .ok);
  EXPECT_EQ(c.server.body_buffer_size, 1u << 20);
  EXPECT_EQ(c.server.max_buffered_bodies, 2ull << 30);
  ExpectError("[server.request]\nbody_buffer_size = 100\n",
              "ephpm.toml: [server.request] body_buffer_size: size 100 bytes out of range "
              "(1024..1073741824 bytes)");
  ExpectError("[server.request]\nmax_buffered_bodies = 0\n",
              "ephpm.toml: [server.request] max_buffered_bodies: size 0 bytes out of range "
              "(1024..1099511627776 bytes)");
  ExpectErrorPrefix("[server.request]\nmax_buffered_bodies = \"64M\"\n",
                    "ephpm.toml: [server.request] max_buffered_bodies: invalid size \"64M\"");
  ExpectErrorPrefix("[server.request]\nbody_buffer_size = true\n",
              "ephpm.toml: [server.request] body_buffer_size: expected a size");
}

TEST(ConfigServer, SizeErrors) {
  ExpectErrorPrefix("[server.request]\nmax_body_size = \"8 MB\"\n",
                    "ephpm.toml: [server.request] max_body_size: invalid size \"8 MB\"");
  ExpectErrorPrefix("[server.request]\nmax_body_size = \"8M\"\n",
                    "ephpm.toml: [server.request] max_body_size: invalid size \"8M\"");
  ExpectError("[server.request]\nmax_body_size = -1\n",
              "ephpm.toml: [server.request] max_body_size: size must not be negative, got -1");
  ExpectError("[server.request]\nmax_body_size = 0\n",
              "ephpm.toml: [server.request] max_body_size: size 0 bytes out of range "
              "(1..1073741824 bytes)");
  ExpectError("[server.request]\nmax_body_size = \"2GB\"\n",
              "ephpm.toml: [server.request] max_body_size: size 2147483648 bytes out of range "
              "(1..1073741824 bytes)");
  ExpectError("[server.request]\nmax_header_size = 100\n",
              "ephpm.toml: [server.request] max_header_size: size 100 bytes out of range "
              "(1024..1048576 bytes)");
  ExpectError("[server.request]\nmax_header_size = 1.5\n",
              "ephpm.toml: [server.request] max_header_size: expected a size (integer bytes or a "
              "string like \"8MB\"), got float");
}

TEST(ConfigServer, TimeoutErrors) {
  ExpectError("[server.timeouts]\nheader_read = 0\n",
              "ephpm.toml: [server.timeouts] header_read: expected seconds > 0 and <= 86400, "
              "got 0");
  ExpectError("[server.timeouts]\nidle = -3\n",
              "ephpm.toml: [server.timeouts] idle: expected seconds > 0 and <= 86400, got -3");
  ExpectError("[server.timeouts]\nrequest = \"30s\"\n",
              "ephpm.toml: [server.timeouts] request: expected a number of seconds, got string");
  ExpectError("[server.timeouts]\nrequest = 100000\n",
              "ephpm.toml: [server.timeouts] request: expected seconds > 0 and <= 86400, got "
              "100000");
}

TEST(ConfigPhp, AllKeys) {
  char tmpl[] = "/tmp/ephpm-config-test-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  Config c;
  LoadResult r = Parse(std::string(R"(
[php]
max_execution_time = 5
memory_limit = "256M"
ini_file = ")") + tmpl + R"("
workers = 4
max_requests = 1000
[php.ini]
display_errors = true
"opcache.enable" = 0
"date.timezone" = "UTC"
precision = 1.5
)", &c);
  unlink(tmpl);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(c.php.max_execution_time, 5);
  EXPECT_EQ(c.php.memory_limit, "256M");
  EXPECT_EQ(c.php.ini_file, tmpl);
  EXPECT_EQ(c.php.workers, 4);
  EXPECT_EQ(c.php.max_requests, 1000u);
  std::map<std::string, std::string> ini(c.php.ini.begin(), c.php.ini.end());
  EXPECT_EQ(ini["display_errors"], "1");
  EXPECT_EQ(ini["opcache.enable"], "0");
  EXPECT_EQ(ini["date.timezone"], "UTC");
  EXPECT_EQ(ini["precision"], "1.5");
  EXPECT_EQ(ini.size(), 4u);
}

TEST(ConfigPhp, MemoryLimitForms) {
  Config c;
  for (const char* ok : {"\"-1\"", "\"512K\"", "\"1g\"", "\"1048576\"", "-1", "67108864"}) {
    ASSERT_TRUE(Parse(std::string("[php]\nmemory_limit = ") + ok + "\n", &c).ok) << ok;
  }
  EXPECT_EQ(c.php.memory_limit, "67108864");
  ExpectError("[php]\nmemory_limit = \"128MB\"\n",
              "ephpm.toml: [php] memory_limit: invalid PHP memory size \"128MB\" (expected e.g. "
              "\"128M\", \"1G\", \"-1\" or bytes)");
  ExpectError("[php]\nmemory_limit = 0\n",
              "ephpm.toml: [php] memory_limit: expected -1 or a positive byte count");
  ExpectError("[php]\nmemory_limit = true\n",
              "ephpm.toml: [php] memory_limit: expected a string, got boolean");
}

TEST(ConfigPhp, Errors) {
  ExpectError("[php]\nmax_execution_time = -1\n",
              "ephpm.toml: [php] max_execution_time: value -1 out of range (0..86400)");
  ExpectError("[php]\nmax_execution_time = \"30\"\n",
              "ephpm.toml: [php] max_execution_time: expected an integer, got string");
  ExpectError("[php]\nworkers = -1\n", "ephpm.toml: [php] workers: value -1 out of range (0..1024)");
  ExpectError("[php]\nmax_requests = -5\n",
              "ephpm.toml: [php] max_requests: value -5 out of range (0..9223372036854775807)");
  ExpectError("[php]\nini_file = \"/nonexistent/php.ini\"\n",
              "ephpm.toml: [php] ini_file: \"/nonexistent/php.ini\": No such file or directory");
  ExpectError("[php]\nini = \"x=1\"\n", "ephpm.toml: [php.ini]: expected a table, got string");
  ExpectError("[php.ini]\nfoo = [1]\n",
              "ephpm.toml: [php.ini] foo: expected a string, number or boolean, got array");
  ExpectError("[php.ini]\nfoo = \"a\\nb\"\n",
              "ephpm.toml: [php.ini] foo: value \"a\\x0ab\" must not contain newlines or NUL bytes");
  ExpectError("[php.ini]\n\"a=b\" = 1\n",
              "ephpm.toml: [php.ini] \"a=b\": invalid INI directive name (no =, quotes, [], ;, "
              "spaces, newlines or NUL bytes)");
  ExpectError("[php]\nini_overrides = {}\n",
              "ephpm.toml: [php] ini_overrides: unknown key (expected one of: max_execution_time, "
              "memory_limit, ini, ini_file, mode, worker_script, workers (worker_count), "
              "max_requests (worker_max_requests))");
}

TEST(ConfigKv, AllKeys) {
  Config c;
  LoadResult r = Parse(R"(
[kv]
memory_limit = "64MB"
eviction_policy = "volatile-lru"
shards = 4096
)", &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(c.kv.options.memory_limit, 64u << 20);
  EXPECT_EQ(c.kv.options.eviction_policy, kv::EvictionPolicy::kVolatileLru);
  EXPECT_EQ(c.kv.options.shards, 4096u);
  ASSERT_TRUE(Parse("[kv]\nmemory_limit = 0\nshards = 1\neviction_policy = \"noeviction\"\n", &c)
                  .ok);
  EXPECT_EQ(c.kv.options.memory_limit, 0u);
  EXPECT_EQ(c.kv.options.shards, 1u);
  EXPECT_EQ(c.kv.options.eviction_policy, kv::EvictionPolicy::kNoEviction);
  ASSERT_TRUE(Parse("[kv]\nmemory_limit = 1048576\neviction_policy = \"allkeys-random\"\n", &c).ok);
  EXPECT_EQ(c.kv.options.memory_limit, 1u << 20);
  EXPECT_EQ(c.kv.options.eviction_policy, kv::EvictionPolicy::kAllKeysRandom);
  ASSERT_TRUE(Parse("[kv]\nmemory_limit = \"1gb\"\neviction_policy = \"allkeys-lru\"\n", &c).ok);
  EXPECT_EQ(c.kv.options.memory_limit, 1u << 30);
}

TEST(ConfigKv, Errors) {
  ExpectError("[kv]\neviction_policy = \"lru\"\n",
              "ephpm.toml: [kv] eviction_policy: unknown policy \"lru\" (expected noeviction, "
              "allkeys-lru, volatile-lru, allkeys-random)");
  ExpectError("[kv]\neviction_policy = \"ALLKEYS-LRU\"\n",
              "ephpm.toml: [kv] eviction_policy: unknown policy \"ALLKEYS-LRU\" (expected "
              "noeviction, allkeys-lru, volatile-lru, allkeys-random)");
  ExpectError("[kv]\nshards = 3\n",
              "ephpm.toml: [kv] shards: must be a power of two between 1 and 4096, got 3");
  ExpectError("[kv]\nshards = 8192\n", "ephpm.toml: [kv] shards: value 8192 out of range (1..4096)");
  ExpectError("[kv]\nshards = 0\n", "ephpm.toml: [kv] shards: value 0 out of range (1..4096)");
  ExpectErrorPrefix("[kv]\nmemory_limit = \"256M\"\n",
                    "ephpm.toml: [kv] memory_limit: invalid size \"256M\"");
  ExpectErrorPrefix("[kv]\nmemory_limit = \"1.5GB\"\n",
                    "ephpm.toml: [kv] memory_limit: invalid size \"1.5GB\"");
  ExpectErrorPrefix("[kv]\nmemory_limit = \"-1MB\"\n",
                    "ephpm.toml: [kv] memory_limit: invalid size \"-1MB\"");
  ExpectErrorPrefix("[kv]\nmemory_limit = \"99999999999999999999\"\n",
                    "ephpm.toml: [kv] memory_limit: invalid size \"99999999999999999999\"");
  ExpectError("[kv]\nmemory_limit = \"512KB\"\n",
              "ephpm.toml: [kv] memory_limit: size 524288 bytes is below the minimum of 1048576 "
              "bytes (1MB); use 0 for unlimited");
  ExpectError("[kv]\nmemory_limit = -1\n",
              "ephpm.toml: [kv] memory_limit: size must not be negative, got -1");
  ExpectError("[kv]\nmemory_limit = 1.0\n",
              "ephpm.toml: [kv] memory_limit: expected a size (integer bytes or a string like "
              "\"256MB\"), got float");
  ExpectError("kv = 1\n", "ephpm.toml: [kv]: expected a table, got integer");
}

TEST(ConfigKv, EphpmKeysWarn) {
  Config c;
  LoadResult r = Parse(R"(
[kv]
compression = "zstd"
compression_level = 3
compression_min_size = 1024
secret = "s3cret"
enabled = true
flavour = "x"
[kv.redis_compat]
enabled = true
listen = "127.0.0.1:6379"
)", &c);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.warnings.size(), 3u);
  auto has = [&](const std::string& w) {
    for (const auto& x : r.warnings) {
      if (x == w) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("ephpm.toml: [kv] secret: ePHPm setting not implemented by ephpm; accepted and "
                  "ignored"));
  EXPECT_TRUE(has("ephpm.toml: [kv] enabled: ignored: the store is always on"));
  EXPECT_TRUE(has("ephpm.toml: [kv] flavour: unknown key, ignored (known: memory_limit, "
                  "eviction_policy, shards, compression, compression_level, "
                  "compression_min_size)"));
  EXPECT_TRUE(c.kv.redis_compat.enabled);  // [kv.redis_compat] is implemented: no warning
  EXPECT_EQ(c.kv.options.memory_limit, 256u << 20);  // defaults untouched
  EXPECT_EQ(c.kv.options.compression, kv::Compression::kZstd);  // implemented: no warning
}

TEST(ConfigKv, Compression) {
  Config c;
  ASSERT_TRUE(Parse("", &c).ok);  // ePHPm's defaults
  EXPECT_EQ(c.kv.options.compression, kv::Compression::kNone);
  EXPECT_EQ(c.kv.options.compression_level, 6);
  EXPECT_EQ(c.kv.options.compression_min_size, 1024u);
  LoadResult r = Parse("[kv]\ncompression_level = 9\ncompression = \"gzip\"\n"
                       "compression_min_size = \"2KB\"\n", &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(c.kv.options.compression, kv::Compression::kGzip);
  EXPECT_EQ(c.kv.options.compression_level, 9);
  EXPECT_EQ(c.kv.options.compression_min_size, 2048u);
  ASSERT_TRUE(Parse("[kv]\ncompression = \"Brotli\"\ncompression_level = 11\n"
                    "compression_min_size = 0\n", &c).ok);
  EXPECT_EQ(c.kv.options.compression, kv::Compression::kBrotli);
  EXPECT_EQ(c.kv.options.compression_min_size, 0u);
  ASSERT_TRUE(Parse("[kv]\ncompression = \"zstd\"\ncompression_level = 19\n", &c).ok);
  EXPECT_EQ(c.kv.options.compression, kv::Compression::kZstd);
  ASSERT_TRUE(Parse("[kv]\ncompression = \"none\"\n", &c).ok);
  EXPECT_EQ(c.kv.options.compression, kv::Compression::kNone);

  ExpectError("[kv]\ncompression = \"lz4\"\n",
              "ephpm.toml: [kv] compression: unknown algorithm \"lz4\" (expected none, gzip, "
              "brotli, zstd)");
  ExpectError("[kv]\ncompression = true\n",
              "ephpm.toml: [kv] compression: expected a string, got boolean");
  ExpectError("[kv]\ncompression = \"gzip\"\ncompression_level = 10\n",
              "ephpm.toml: [kv] compression_level: level 10 out of range for gzip (1..9)");
  // The level is checked against the algorithm whatever the order of the keys.
  ExpectError("[kv]\ncompression_level = 0\ncompression = \"zstd\"\n",
              "ephpm.toml: [kv] compression_level: level 0 out of range for zstd (1..22)");
  ExpectError("[kv]\ncompression_level = 23\n",
              "ephpm.toml: [kv] compression_level: value 23 out of range (0..22)");
  ExpectError("[kv]\ncompression_level = \"6\"\n",
              "ephpm.toml: [kv] compression_level: expected an integer, got string");
  ExpectError("[kv]\ncompression_min_size = -1\n",
              "ephpm.toml: [kv] compression_min_size: size must not be negative, got -1");
  ExpectErrorPrefix("[kv]\ncompression_min_size = \"1 KB\"\n",
                    "ephpm.toml: [kv] compression_min_size: invalid size \"1 KB\"");
}

TEST(ConfigRedisCompat, DefaultsKeysAndWarnings) {
  Config c;
  ASSERT_TRUE(Parse("", &c).ok);
  EXPECT_FALSE(c.kv.redis_compat.enabled);
  EXPECT_EQ(c.kv.redis_compat.listen, "127.0.0.1:6379");
  EXPECT_EQ(c.kv.redis_compat.max_connections, 1000u);
  EXPECT_EQ(c.kv.redis_compat.idle_timeout_secs, 300u);
  EXPECT_EQ(c.kv.redis_compat.max_input_buffer, 1u << 20);
  LoadResult r = Parse(R"(
[kv.redis_compat]
enabled = true
listen = "[::1]:7000"
password = "pw"
max_connections = 0
idle_timeout_secs = 0
max_input_buffer = 4096
socket = "/run/ephpm.sock"
colour = 1
)", &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(c.kv.redis_compat.listen_address.host, "::1");
  EXPECT_EQ(c.kv.redis_compat.listen_address.port, 7000);
  EXPECT_EQ(c.kv.redis_compat.password, "pw");
  EXPECT_EQ(c.kv.redis_compat.max_connections, 0u);
  EXPECT_EQ(c.kv.redis_compat.max_input_buffer, 4096u);
  ASSERT_EQ(r.warnings.size(), 2u);  // in key order (toml++ tables are sorted)
  EXPECT_EQ(r.warnings[0].rfind("ephpm.toml: [kv.redis_compat] colour: unknown key, ignored", 0), 0u);
  EXPECT_EQ(r.warnings[1], "ephpm.toml: [kv.redis_compat] socket: ePHPm setting not implemented by "
                           "ephpm (TCP only); accepted and ignored");
  for (const char* loopback : {"127.0.0.1:1", "127.9.9.9:1", "[::1]:1", "localhost:1"}) {
    std::string text = std::string("[kv.redis_compat]\nenabled = true\nlisten = \"") + loopback + "\"\n";
    EXPECT_TRUE(Parse(text, &c).ok) << loopback;
  }
}

TEST(ConfigRedisCompat, Errors) {
  ExpectError("[kv.redis_compat]\nenabled = true\nlisten = \"0.0.0.0:6379\"\n",
              "ephpm.toml: [kv.redis_compat] password: required when listen (\"0.0.0.0:6379\") is not "
              "a loopback address: anyone who can reach it could read and write the whole store");
  ExpectError("[kv.redis_compat]\nenabled = true\nlisten = \"example.com:6379\"\n",
              "ephpm.toml: [kv.redis_compat] password: required when listen (\"example.com:6379\") is "
              "not a loopback address: anyone who can reach it could read and write the whole store");
  ExpectError("[kv.redis_compat]\nenabled = 1\n",
              "ephpm.toml: [kv.redis_compat] enabled: expected true or false");
  ExpectError("[kv.redis_compat]\nmax_input_buffer = 100\n",
              "ephpm.toml: [kv.redis_compat] max_input_buffer: value 100 out of range "
              "(1024..1073741824)");
  ExpectError("[kv.redis_compat]\nmax_connections = -1\n",
              "ephpm.toml: [kv.redis_compat] max_connections: value -1 out of range (0..1000000)");
  ExpectError("[kv.redis_compat]\npassword = \"a\\nb\"\n",
              "ephpm.toml: [kv.redis_compat] password: must not contain newlines or NUL bytes");
  ExpectError("[kv]\nredis_compat = 1\n", "ephpm.toml: [kv.redis_compat]: expected a table, got integer");
  Config c;  // disabled: a public address without password is fine (nothing listens)
  EXPECT_TRUE(Parse("[kv.redis_compat]\nlisten = \"0.0.0.0:6379\"\n", &c).ok);
}

TEST(ConfigLog, Keys) {
  Config c;
  ASSERT_TRUE(Parse("[log]\nlevel = \"debug\"\naccess_log = \"logs/access.log\"\n", &c).ok);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.access_log, "/srv/app/logs/access.log");
  ASSERT_TRUE(Parse("[log]\naccess_log = \"-\"\n", &c).ok);
  EXPECT_EQ(c.log.access_log, "-");
  for (const char* lv : {"trace", "debug", "info", "warn", "error", "off"}) {
    ASSERT_TRUE(Parse(std::string("[log]\nlevel = \"") + lv + "\"\n", &c).ok);
    EXPECT_EQ(c.log.level, lv);
  }
  ExpectError("[log]\nlevel = \"verbose\"\n",
              "ephpm.toml: [log] level: unknown level \"verbose\" (expected trace, debug, info, "
              "warn, error, off)");
  ExpectError("[log]\nformat = \"json\"\n",
              "ephpm.toml: [log] format: unknown key (expected one of: level, access_log, "
              "access_log_format)");
  ExpectError("[log]\naccess_log = false\n",
              "ephpm.toml: [log] access_log: expected a string, got boolean");
}

TEST(ConfigMetrics, OffByDefaultListenAndErrors) {
  Config c;
  ASSERT_TRUE(Parse("", &c).ok);
  EXPECT_EQ(c.metrics.listen, "");
  ASSERT_TRUE(Parse("[metrics]\nlisten = \"127.0.0.1:9090\"\n", &c).ok);
  EXPECT_EQ(c.metrics.listen, "127.0.0.1:9090");
  EXPECT_EQ(c.metrics.listen_address.host, "127.0.0.1");
  EXPECT_EQ(c.metrics.listen_address.port, 9090);
  ASSERT_TRUE(Parse("[metrics]\nlisten = \"[::1]:0\"\n", &c).ok);
  EXPECT_EQ(c.metrics.listen_address.host, "::1");
  ExpectErrorPrefix("[metrics]\nlisten = \"9090\"\n", "ephpm.toml: [metrics] listen: ");
  ExpectError("[metrics]\nlisten = 9090\n",
              "ephpm.toml: [metrics] listen: expected a string \"host:port\", e.g. "
              "\"127.0.0.1:9090\"");
  ExpectError("[metrics]\npath = \"/m\"\n",
              "ephpm.toml: [metrics] path: unknown key (expected one of: listen)");
  ExpectError("metrics = 1\n", "ephpm.toml: [metrics]: expected a table, got integer");
}

TEST(ConfigTopLevel, UnknownTablesAndKeys) {
  ExpectError("[serverr]\nlisten = \"x\"\n",
              "ephpm.toml: [serverr]: unknown table (expected [server], [php], [kv], [log], "
              "[metrics])");
  ExpectError("listen = \"127.0.0.1:80\"\n",
              "ephpm.toml: listen: unknown top-level key (settings belong in [server], [php], "
              "[kv], [log] or [metrics])");
}

TEST(ConfigTopLevel, SyntaxErrorNamesLineAndColumn) {
  ExpectErrorPrefix("[server]\nlisten = \n", "ephpm.toml:2:");
  ExpectErrorPrefix("[server\n", "ephpm.toml:1:");
  Config c;
  LoadResult r = Parse("[server]\nlisten = \n", &c);
  EXPECT_NE(r.error.find("invalid TOML"), std::string::npos) << r.error;
}

TEST(ConfigTopLevel, FailedLoadLeavesConfigUntouched) {
  Config c;
  c.server.listen = "sentinel";
  EXPECT_FALSE(Parse("[server]\nlisten = \"1.2.3.4:1\"\n[kv]\nshards = 3\n", &c).ok);
  EXPECT_EQ(c.server.listen, "sentinel");
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ephpm-config-dir-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(ConfigFileTest, RelativePathsResolveAgainstTheConfigFileDirectory) {
  std::string path = Write("ephpm.toml", "[server]\ndocument_root = \"site/public\"\n");
  Config c;
  LoadResult r = Load(path, true, &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(c.server.document_root, dir_ + "/site/public");
  EXPECT_EQ(c.source_path, path);
  EXPECT_EQ(c.base_dir, dir_);
}

TEST_F(ConfigFileTest, DefaultDocumentRootIsPublicNextToTheFile) {
  std::string path = Write("ephpm.toml", "");
  Config c;
  ASSERT_TRUE(Load(path, true, &c).ok);
  EXPECT_EQ(c.server.document_root, dir_ + "/public");
}

TEST_F(ConfigFileTest, MissingImplicitFileGivesDefaults) {
  Config c;
  LoadResult r = Load(dir_ + "/nope.toml", false, &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(c.source_path, "");
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_EQ(c.server.document_root, AbsolutePath("public", cwd));
}

TEST_F(ConfigFileTest, MissingExplicitFileIsAnError) {
  Config c;
  LoadResult r = Load(dir_ + "/nope.toml", true, &c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, dir_ + "/nope.toml: cannot read config file: No such file or directory");
}

TEST_F(ConfigFileTest, DirectoryIsAnError) {
  Config c;
  LoadResult r = Load(dir_, true, &c);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("cannot read config file"), std::string::npos) << r.error;
}

TEST_F(ConfigFileTest, ErrorsNameTheGivenPath) {
  std::string path = Write("bad.toml", "[kv]\neviction_policy = \"lru\"\n");
  Config c;
  LoadResult r = Load(path, true, &c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, path + ": [kv] eviction_policy: unknown policy \"lru\" (expected noeviction, "
                            "allkeys-lru, volatile-lru, allkeys-random)");
}

TEST(ConfigOverrides, ListenAndDocumentRoot) {
  Config c;
  std::string err;
  EXPECT_TRUE(ApplyListenOverride("127.0.0.1:0", &c, &err)) << err;
  EXPECT_EQ(c.server.listen_address.port, 0);
  EXPECT_FALSE(ApplyListenOverride("nope", &c, &err));
  EXPECT_EQ(err.substr(0, 27), "--listen: invalid address \"");
  EXPECT_TRUE(ApplyDocumentRootOverride("/tmp/x/../y", &c, &err));
  EXPECT_EQ(c.server.document_root, "/tmp/y");
  EXPECT_FALSE(ApplyDocumentRootOverride("", &c, &err));
  EXPECT_EQ(err, "--document-root: must not be empty");
}

TEST(ConfigPaths, AbsolutePath) {
  EXPECT_EQ(AbsolutePath("a/./b/../c", "/base"), "/base/a/c");
  EXPECT_EQ(AbsolutePath("/x/y/", "/base"), "/x/y");
  EXPECT_EQ(AbsolutePath("../../..", "/a"), "/");
}

// --- which file applies (config::Locate, shared by `serve` and `php`) ---------------------------

TEST(ConfigLocate, FlagThenEnvironmentThenOptionalDefault) {
  const char* saved = getenv("EPHPM_CONFIG");
  std::string saved_value = saved != nullptr ? saved : "";
  setenv("EPHPM_CONFIG", "/env/ephpm.toml", 1);
  ConfigLocation l = Locate("/flag/ephpm.toml");
  EXPECT_EQ(l.path, "/flag/ephpm.toml");
  EXPECT_TRUE(l.explicit_path);
  l = Locate("");
  EXPECT_EQ(l.path, "/env/ephpm.toml");
  EXPECT_TRUE(l.explicit_path);
  setenv("EPHPM_CONFIG", "", 1);  // empty counts as unset
  l = Locate("");
  EXPECT_EQ(l.path, "ephpm.toml");
  EXPECT_FALSE(l.explicit_path);
  unsetenv("EPHPM_CONFIG");
  l = Locate("");
  EXPECT_EQ(l.path, "ephpm.toml");
  EXPECT_FALSE(l.explicit_path);
  if (saved != nullptr) setenv("EPHPM_CONFIG", saved_value.c_str(), 1);
}

// --- hostile config files: regular files of at most 1 MB, never a hang -----------------------

TEST_F(ConfigFileTest, FifoIsRefusedWithoutBlocking) {
  std::string fifo = dir_ + "/fifo.toml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Config c;
  LoadResult r = Load(fifo, true, &c);  // would block forever if the FIFO were opened to read
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, fifo + ": cannot read config file: not a regular file (a FIFO)");
  r = Load(fifo, false, &c);  // an implicit ./ephpm.toml that is a FIFO is an error too
  EXPECT_FALSE(r.ok);
}

TEST_F(ConfigFileTest, DevZeroIsRefused) {
  Config c;
  LoadResult r = Load("/dev/zero", true, &c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "/dev/zero: cannot read config file: not a regular file (a character device)");
}

TEST_F(ConfigFileTest, DirectoryIsRefusedByName) {
  Config c;
  LoadResult r = Load(dir_, true, &c);
  EXPECT_EQ(r.error, dir_ + ": cannot read config file: is a directory");
  r = Load(dir_, false, &c);
  EXPECT_EQ(r.error, dir_ + ": cannot read config file: is a directory");
}

TEST_F(ConfigFileTest, SizeCapIsOneMegabyte) {
  // Exactly 1 MB of comments is still a config file; one byte more is not.
  std::string line = "#" + std::string(1023, 'x');
  line.back() = '\n';
  std::string text;
  while (text.size() < kMaxConfigFileBytes) text += line;
  ASSERT_EQ(text.size(), kMaxConfigFileBytes);
  std::string path = Write("big.toml", text);
  Config c;
  LoadResult r = Load(path, true, &c);
  EXPECT_TRUE(r.ok) << r.error;
  path = Write("big.toml", text + "\n");
  r = Load(path, true, &c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, path + ": cannot read config file: larger than 1 MB (1048577 bytes); not a "
                            "config file?");
}

TEST_F(ConfigFileTest, IniFileMustBeASmallRegularFile) {
  std::string fifo = dir_ + "/php.ini";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string big = Write("big.ini", std::string(kMaxConfigFileBytes + 1, ';'));
  std::string good = Write("good.ini", "memory_limit = 64M\n");
  struct Case {
    std::string value, error;
  } cases[] = {
      {fifo, "[php] ini_file: \"" + fifo + "\": not a regular file (a FIFO)"},
      {"/dev/zero", "[php] ini_file: \"/dev/zero\": not a regular file (a character device)"},
      {dir_, "[php] ini_file: \"" + dir_ + "\": is a directory"},
      {big, "[php] ini_file: \"" + big + "\": larger than 1 MB (1048577 bytes); not a config file?"},
  };
  for (const Case& k : cases) {
    std::string path = Write("ephpm.toml", "[php]\nini_file = \"" + k.value + "\"\n");
    Config c;
    LoadResult r = Load(path, true, &c);
    EXPECT_FALSE(r.ok) << k.value;
    EXPECT_EQ(r.error, path + ": " + k.error);
  }
  std::string path = Write("ephpm.toml", "[php]\nini_file = \"good.ini\"\n");
  Config c;
  LoadResult r = Load(path, true, &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(c.php.ini_file, good);
}

// --- implausible values ----------------------------------------------------------------------

TEST(ConfigKv, MemoryLimitAbovePhysicalMemoryIsAnError) {
  struct sysinfo info;
  ASSERT_EQ(sysinfo(&info), 0);
  uint64_t ram = static_cast<uint64_t>(info.totalram) * info.mem_unit;
  uint64_t too_much = ram + (1ull << 30);
  ExpectError("[kv]\nmemory_limit = " + std::to_string(too_much) + "\n",
              "ephpm.toml: [kv] memory_limit: size " + std::to_string(too_much) +
                  " bytes is more than this machine's physical memory (" + std::to_string(ram) +
                  " bytes)");
  Config c;
  EXPECT_TRUE(Parse("[kv]\nmemory_limit = " + std::to_string(ram) + "\n", &c).ok);
  EXPECT_TRUE(Parse("[kv]\nmemory_limit = 0\n", &c).ok);  // unlimited is not a size
}

TEST(ConfigMessages, KeysWithNulOrNewlineAreEscapedNotTruncated) {
  const std::string nul_key("[php.ini]\n\"a\\u0000b.c\" = 1\n");
  Config c;
  LoadResult r = Parse(nul_key, &c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "ephpm.toml: [php.ini] \"a\\x00b.c\": invalid INI directive name (no =, "
                     "quotes, [], ;, spaces, newlines or NUL bytes)");
  EXPECT_EQ(r.error.find('\0'), std::string::npos);
  ExpectError("[php.ini]\n\"x\\ny\" = 1\n",
              "ephpm.toml: [php.ini] \"x\\x0ay\": invalid INI directive name (no =, quotes, [], "
              ";, spaces, newlines or NUL bytes)");
  ExpectError("[php.ini]\n\"error_log\" = \"/tmp/a\\u0000b\"\n",
              "ephpm.toml: [php.ini] error_log: value \"/tmp/a\\x00b\" must not contain newlines "
              "or NUL bytes");
  ExpectError("[server]\n\"x\\ny\" = 1\n",
              "ephpm.toml: [server] \"x\\x0ay\": unknown key (expected one of: listen, "
              "document_root, index_files, fallback, hidden_files, io_threads, php_queue_size, "
              "[server.request], [server.timeouts])");
  ExpectError("\"\\u0000\" = 1\n",
              "ephpm.toml: \"\\x00\": unknown top-level key (settings belong in [server], [php], "
              "[kv], [log] or [metrics])");
}

TEST_F(ConfigFileTest, AccessLogMustBeAppendable) {
  std::string cfg = Write("ephpm.toml", "");
  auto check = [&](const std::string& access_log, std::string* error) {
    Config c;
    EXPECT_TRUE(Load(cfg, true, &c).ok);
    c.log.access_log = access_log;
    return CheckServeFiles(c, error);
  };
  std::string err;
  EXPECT_FALSE(check("/", &err));
  EXPECT_EQ(err, cfg + ": [log] access_log: \"/\": is a directory");
  EXPECT_FALSE(check(dir_, &err));
  EXPECT_EQ(err, cfg + ": [log] access_log: \"" + dir_ + "\": is a directory");
  EXPECT_FALSE(check(dir_ + "/no/such/dir/access.log", &err));
  EXPECT_EQ(err, cfg + ": [log] access_log: \"" + dir_ + "/no/such/dir/access.log\": cannot be "
                       "created: directory \"" + dir_ + "/no/such/dir\" does not exist");
  std::string fifo = dir_ + "/log.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(check(fifo, &err));
  EXPECT_EQ(err, cfg + ": [log] access_log: \"" + fifo + "\": not a regular file (a FIFO)");
  // Fine: a new file in a writable directory (not created by the check), an existing file,
  // a character device, stdout, off.
  std::string fresh = dir_ + "/access.log";
  EXPECT_TRUE(check(fresh, &err)) << err;
  struct stat st;
  EXPECT_NE(stat(fresh.c_str(), &st), 0) << "the check must not create the file";
  Write("access.log", "old line\n");
  EXPECT_TRUE(check(fresh, &err)) << err;
  EXPECT_TRUE(check("/dev/null", &err)) << err;
  EXPECT_TRUE(check("-", &err)) << err;
  EXPECT_TRUE(check("", &err)) << err;
}

// Root may write anywhere, so the "not writable" case runs as an unprivileged user: in a child
// that drops to `nobody` when the test runs as root.
TEST_F(ConfigFileTest, AccessLogNotWritableIsAnError) {
  std::string ro = dir_ + "/ro";
  ASSERT_EQ(mkdir(ro.c_str(), 0555), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  std::string existing = ro + "/existing.log";
  {
    std::ofstream(existing) << "x\n";
  }
  ASSERT_EQ(chmod(existing.c_str(), 0444), 0);
  std::string cfg = Write("ephpm.toml", "");
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    std::string out;
    for (const std::string& log : {ro + "/new.log", existing}) {
      Config c;
      std::string err;
      if (!Load(cfg, true, &c).ok) _exit(4);
      c.log.access_log = log;
      if (CheckServeFiles(c, &err)) _exit(5);
      out += err + "\n";
    }
    if (write(pipefd[1], out.data(), out.size()) != static_cast<ssize_t>(out.size())) _exit(6);
    _exit(0);
  }
  close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, n);
  close(pipefd[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "child failed: 3 setuid, 4 load, 5 check passed";
  EXPECT_EQ(out, cfg + ": [log] access_log: \"" + ro + "/new.log\": cannot be created in \"" + ro +
                     "\": Permission denied\n" + cfg + ": [log] access_log: \"" + existing +
                     "\": cannot open for appending: Permission denied\n");
}

// --- worker mode keys ----------------------------------------------------------------------------

TEST(ConfigWorkerMode, ModeValues) {
  Config c;
  ASSERT_TRUE(Parse("", &c).ok);
  EXPECT_EQ(c.php.mode, PhpMode::kClassic);
  EXPECT_EQ(c.php.worker_script, "");
  ASSERT_TRUE(Parse("[php]\nmode = \"fpm\"\n", &c).ok);  // ePHPm's name for classic
  EXPECT_EQ(c.php.mode, PhpMode::kClassic);
  ASSERT_TRUE(Parse("[php]\nmode = \"classic\"\n", &c).ok);
  EXPECT_EQ(c.php.mode, PhpMode::kClassic);
  EXPECT_STREQ(PhpModeName(PhpMode::kWorker), "worker");
  ExpectError("[php]\nmode = \"Worker\"\n",
              "ephpm.toml: [php] mode: unknown mode \"Worker\" (expected classic, worker)");
  ExpectError("[php]\nmode = 1\n", "ephpm.toml: [php] mode: expected a string, got integer");
}

TEST(ConfigWorkerMode, WorkerScriptRequiredAndRelativeToDocumentRoot) {
  ExpectError("[php]\nmode = \"worker\"\n",
              "ephpm.toml: [php] worker_script: required when [php] mode = \"worker\" (the "
              "script, relative to document_root, that calls ephpm_handle_request())");
  Config c;
  // [php] before [server] in the file: still relative to the final document_root.
  LoadResult r = Parse("[php]\nmode = \"worker\"\nworker_script = \"./bin/../worker.php\"\n"
                       "[server]\ndocument_root = \"web\"\n", &c);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(c.php.mode, PhpMode::kWorker);
  EXPECT_EQ(c.php.worker_script, "/srv/app/web/worker.php");
  ASSERT_TRUE(Parse("[php]\nmode = \"worker\"\nworker_script = \"index.php\"\n", &c).ok);
  EXPECT_EQ(c.php.worker_script, "/srv/app/public/index.php");
  ExpectError("[php]\nmode = \"worker\"\nworker_script = \"../bin/worker.php\"\n",
              "ephpm.toml: [php] worker_script: \"../bin/worker.php\" is not a file inside the "
              "document root \"/srv/app/public\"");
  ExpectError("[php]\nmode = \"worker\"\nworker_script = \"/etc/passwd\"\n",
              "ephpm.toml: [php] worker_script: \"/etc/passwd\" is not a file inside the "
              "document root \"/srv/app/public\"");
  ExpectError("[php]\nmode = \"worker\"\nworker_script = \".\"\n",
              "ephpm.toml: [php] worker_script: \".\" is not a file inside the document root "
              "\"/srv/app/public\"");
  ExpectError("[php]\nworker_script = \"\"\n", "ephpm.toml: [php] worker_script: must not be empty");
  r = Parse("[php]\nworker_script = \"index.php\"\n", &c);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "ephpm.toml: [php] worker_script: ignored: [php] mode is \"classic\"");
}

TEST(ConfigWorkerMode, EphpmAliases) {
  Config c;
  ASSERT_TRUE(Parse("[php]\nworker_count = 3\nworker_max_requests = 500\n", &c).ok);
  EXPECT_EQ(c.php.workers, 3);
  EXPECT_EQ(c.php.max_requests, 500u);
  ExpectError("[php]\nworkers = 2\nworker_count = 3\n",
              "ephpm.toml: [php] workers: same setting as [php] worker_count (workers and ePHPm's "
              "worker_count are one key); give only one");
  ExpectError("[php]\nmax_requests = 1\nworker_max_requests = 2\n",
              "ephpm.toml: [php] worker_max_requests: same setting as [php] max_requests "
              "(max_requests and ePHPm's worker_max_requests are one key); give only one");
  ExpectError("[php]\nworker_count = 2000\n",
              "ephpm.toml: [php] worker_count: value 2000 out of range (0..1024)");
}

TEST_F(ConfigFileTest, WorkerScriptMustExistInsideTheDocumentRoot) {
  ASSERT_EQ(mkdir((dir_ + "/public").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir_ + "/public/sub").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir_ + "/other").c_str(), 0755), 0);
  Write("public/worker.php", "<?php\n");
  Write("other/worker.php", "<?php\n");
  ASSERT_EQ(symlink((dir_ + "/other/worker.php").c_str(), (dir_ + "/public/link.php").c_str()), 0);
  auto check = [&](const std::string& script, std::string* error) {
    std::string cfg = Write("ephpm.toml", "[php]\nmode = \"worker\"\nworker_script = \"" + script +
                                              "\"\n");
    Config c;
    LoadResult r = Load(cfg, true, &c);
    EXPECT_TRUE(r.ok) << r.error;
    return CheckServeFiles(c, error);
  };
  std::string cfg = dir_ + "/ephpm.toml";
  std::string err;
  EXPECT_TRUE(check("worker.php", &err)) << err;
  EXPECT_FALSE(check("missing.php", &err));
  EXPECT_EQ(err, cfg + ": [php] worker_script: \"" + dir_ +
                     "/public/missing.php\": No such file or directory");
  EXPECT_FALSE(check("sub", &err));
  EXPECT_EQ(err, cfg + ": [php] worker_script: \"" + dir_ + "/public/sub\": is a directory");
  EXPECT_FALSE(check("link.php", &err));
  EXPECT_EQ(err, cfg + ": [php] worker_script: \"" + dir_ + "/public/link.php\" resolves to \"" +
                     dir_ + "/other/worker.php\", outside the document root \"" + dir_ +
                     "/public\"");
}

TEST(ConfigOverrides, DocumentRootMovesTheWorkerScript) {
  Config c;
  ASSERT_TRUE(Parse("[php]\nmode = \"worker\"\nworker_script = \"bin/worker.php\"\n", &c).ok);
  EXPECT_EQ(c.php.worker_script, "/srv/app/public/bin/worker.php");
  std::string err;
  ASSERT_TRUE(ApplyDocumentRootOverride("/var/www", &c, &err)) << err;
  EXPECT_EQ(c.server.document_root, "/var/www");
  EXPECT_EQ(c.php.worker_script, "/var/www/bin/worker.php");
  ASSERT_TRUE(ApplyDocumentRootOverride("/", &c, &err)) << err;
  EXPECT_EQ(c.php.worker_script, "/bin/worker.php");
  ASSERT_TRUE(ApplyDocumentRootOverride("/srv", &c, &err)) << err;
  EXPECT_EQ(c.php.worker_script, "/srv/bin/worker.php");
}

TEST(ConfigListen, PortBoundsAndQuotedMessages) {
  ListenAddress a;
  std::string why;
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:65535", &a, &why)) << why;
  EXPECT_EQ(a.port, 65535);
  EXPECT_FALSE(ParseListenAddress("0.0.0.0:65536", &a, &why));
  EXPECT_EQ(why, "invalid port in \"0.0.0.0:65536\" (expected 0..65535)");
  EXPECT_FALSE(ParseListenAddress("0.0.0.0:-5", &a, &why));
  EXPECT_FALSE(ParseListenAddress("0.0.0.0:000000080", &a, &why));
  EXPECT_FALSE(ParseListenAddress(std::string_view("a\nb:80"), &a, &why));
  EXPECT_EQ(why, "invalid host in \"a\\x0ab:80\"");
}

}  // namespace
}  // namespace ephpm::config
