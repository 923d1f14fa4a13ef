// Every ephpm.toml key (default, accepted values) and every error message.
#include "runtime/config/config.h"

#include <gtest/gtest.h>
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
  ASSERT_TRUE(Parse("[server]\ndocument_root = \"../shared/public\"\n", &c).ok);
  EXPECT_EQ(c.server.document_root, "/srv/shared/public");
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
              "max_body_size, max_header_size)");
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
              "ephpm.toml: [php] ini_file: file \"/nonexistent/php.ini\" does not exist or is not "
              "a regular file");
  ExpectError("[php]\nini = \"x=1\"\n", "ephpm.toml: [php.ini]: expected a table, got string");
  ExpectError("[php.ini]\nfoo = [1]\n",
              "ephpm.toml: [php.ini] foo: expected a string, number or boolean, got array");
  ExpectError("[php.ini]\nfoo = \"a\\nb\"\n",
              "ephpm.toml: [php.ini] foo: value must not contain newlines or NUL bytes");
  ExpectError("[php.ini]\n\"a=b\" = 1\n", "ephpm.toml: [php.ini] a=b: invalid INI directive name");
  ExpectError("[php]\nini_overrides = {}\n",
              "ephpm.toml: [php] ini_overrides: unknown key (expected one of: max_execution_time, "
              "memory_limit, ini, ini_file, workers, max_requests)");
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
  ASSERT_EQ(r.warnings.size(), 7u);
  auto has = [&](const std::string& w) {
    for (const auto& x : r.warnings) {
      if (x == w) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("ephpm.toml: [kv] compression: ePHPm setting not implemented by ephpm; accepted "
                  "and ignored"));
  EXPECT_TRUE(has("ephpm.toml: [kv] compression_level: ePHPm setting not implemented by ephpm; "
                  "accepted and ignored"));
  EXPECT_TRUE(has("ephpm.toml: [kv] compression_min_size: ePHPm setting not implemented by "
                  "ephpm; accepted and ignored"));
  EXPECT_TRUE(has("ephpm.toml: [kv] secret: ePHPm setting not implemented by ephpm; accepted and "
                  "ignored"));
  EXPECT_TRUE(has("ephpm.toml: [kv] enabled: ignored: the store is always on"));
  EXPECT_TRUE(has("ephpm.toml: [kv] flavour: unknown key, ignored (known: memory_limit, "
                  "eviction_policy, shards)"));
  EXPECT_TRUE(has("ephpm.toml: [kv]: [kv.redis_compat]: ePHPm's Redis-protocol listener is not "
                  "implemented by ephpm; table accepted and ignored"));
  EXPECT_EQ(c.kv.options.memory_limit, 256u << 20);  // defaults untouched
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
              "ephpm.toml: [log] format: unknown key (expected one of: level, access_log)");
  ExpectError("[log]\naccess_log = false\n",
              "ephpm.toml: [log] access_log: expected a string, got boolean");
}

TEST(ConfigTopLevel, UnknownTablesAndKeys) {
  ExpectError("[serverr]\nlisten = \"x\"\n",
              "ephpm.toml: [serverr]: unknown table (expected [server], [php], [kv], [log])");
  ExpectError("listen = \"127.0.0.1:80\"\n",
              "ephpm.toml: listen: unknown top-level key (settings belong in [server], [php], "
              "[kv] or [log])");
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

}  // namespace
}  // namespace ephpm::config
