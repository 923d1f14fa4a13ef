// The reload diff (runtime/config/diff.h): which keys changed, which can change live, and what
// KeepStartupSettings() puts back; and [log] access_log_format parsing.
#include "runtime/config/diff.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ephpm::config {
namespace {

Config Load(const std::string& text) {
  Config c;
  LoadResult r = LoadFromString(text, "ephpm.toml", "/srv/app", &c);
  EXPECT_TRUE(r.ok) << r.error;
  return c;
}

// "key" for reloadable changes, "key!" for the ones kept until a restart.
std::vector<std::string> Keys(const std::string& before, const std::string& after) {
  std::vector<std::string> out;
  for (const ConfigChange& c : DiffConfigs(Load(before), Load(after))) {
    out.push_back(c.key + (c.reloadable ? "" : "!"));
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(ConfigDiff, SameConfigNoChanges) {
  const char* text = "[server]\nlisten = \"0.0.0.0:80\"\n[php.ini]\ndisplay_errors = 1\n";
  EXPECT_EQ(Keys(text, text), Strings{});
  EXPECT_EQ(Keys("", ""), Strings{});
}

TEST(ConfigDiff, ReloadableKeys) {
  EXPECT_EQ(Keys("", "[server]\ndocument_root = \"releases/2\"\nindex_files = [\"a.php\"]\n"
                     "fallback = \"\"\nhidden_files = \"allow\"\nio_threads = 3\n"
                     "php_queue_size = 7\n"),
            (Strings{"[server] document_root", "[server] index_files", "[server] fallback",
                     "[server] hidden_files", "[server] io_threads", "[server] php_queue_size"}));
  EXPECT_EQ(Keys("", "[server.request]\nmax_body_size = 1000\nmax_header_size = 2048\n"
                     "body_buffer_size = 4096\nmax_buffered_bodies = 8192\n"
                     "[server.timeouts]\nheader_read = 1\nidle = 2\nrequest = 3\n"),
            (Strings{"[server.request] max_body_size", "[server.request] max_header_size",
                     "[server.request] body_buffer_size", "[server.request] max_buffered_bodies",
                     "[server.timeouts] header_read", "[server.timeouts] idle",
                     "[server.timeouts] request"}));
  EXPECT_EQ(Keys("", "[php]\nmax_execution_time = 5\nmemory_limit = \"64M\"\nworkers = 3\n"
                     "max_requests = 100\n[log]\nlevel = \"debug\"\naccess_log = \"a.log\"\n"
                     "access_log_format = \"json\"\n"),
            (Strings{"[php] max_execution_time", "[php] memory_limit", "[php] workers",
                     "[php] max_requests", "[log] level", "[log] access_log",
                     "[log] access_log_format"}));
}

TEST(ConfigDiff, StartupBoundKeys) {
  EXPECT_EQ(Keys("", "[server]\nlisten = \"127.0.0.1:9999\"\n"), Strings{"[server] listen!"});
  // The same address written differently is no change.
  EXPECT_EQ(Keys("[server]\nlisten = \"[::1]:80\"\n", "[server]\nlisten = \"[::1]:80\"\n"),
            Strings{});
  EXPECT_EQ(Keys("", "[kv]\nmemory_limit = \"2MB\"\neviction_policy = \"noeviction\"\n"
                     "shards = 4\n"),
            (Strings{"[kv] memory_limit!", "[kv] eviction_policy!", "[kv] shards!"}));
  EXPECT_EQ(Keys("", "[php]\nmode = \"worker\"\nworker_script = \"w.php\"\n"),
            (Strings{"[php] mode!", "[php] worker_script"}));
}

TEST(ConfigDiff, PhpIniDirectives) {
  const char* before = "[php.ini]\na = 1\nb = \"x\"\nc = true\n";
  EXPECT_EQ(Keys(before, "[php.ini]\na = 1\nb = \"y\"\nc = true\nd = 4\n"),
            (Strings{"[php.ini] b", "[php.ini] d"}));
  EXPECT_EQ(Keys(before, "[php.ini]\nc = true\nb = \"x\"\n"), Strings{"[php.ini] a (removed)!"});
  EXPECT_EQ(Keys(before, "[php.ini]\nc = 1\nb = \"x\"\na = \"1\"\n"), Strings{});
  // Read only at module start-up: reported, not reloadable.
  EXPECT_EQ(Keys(before, std::string(before) + "\"opcache.memory_consumption\" = 256\n"
                                               "\"opcache.validate_timestamps\" = 0\n"),
            (Strings{"[php.ini] opcache.memory_consumption!",
                     "[php.ini] opcache.validate_timestamps"}));
}

TEST(ConfigDiff, KeepStartupSettingsRestoresStartupOnlyIni) {
  Config running = Load("[php.ini]\n\"opcache.memory_consumption\" = 128\n");
  Config next = Load("[php.ini]\n\"opcache.memory_consumption\" = 256\n"
                     "\"opcache.jit_buffer_size\" = \"64M\"\nprecision = 5\n");
  KeepStartupSettings(running, &next);
  using Ini = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(next.php.ini, (Ini{{"precision", "5"}, {"opcache.memory_consumption", "128"}}));
}

TEST(ConfigDiff, KeepStartupSettingsPutsBackWhatCannotChange) {
  Config running = Load("[server]\nlisten = \"127.0.0.1:8000\"\n[kv]\nshards = 8\n"
                        "[php.ini]\nkept = \"old\"\nchanged = 1\n");
  Config next = Load("[server]\nlisten = \"127.0.0.1:9000\"\ndocument_root = \"/new\"\n"
                     "[kv]\nshards = 16\n[php]\nworkers = 5\n[php.ini]\nchanged = 2\n");
  KeepStartupSettings(running, &next);
  EXPECT_EQ(next.server.listen, "127.0.0.1:8000");
  EXPECT_EQ(next.server.listen_address.port, 8000);
  EXPECT_EQ(next.kv.options.shards, 8u);
  EXPECT_EQ(next.server.document_root, "/new");
  EXPECT_EQ(next.php.workers, 5);
  using Ini = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(next.php.ini, (Ini{{"changed", "2"}, {"kept", "old"}}));
  // What runs after the reload differs from the running config only in reloadable keys.
  for (const ConfigChange& c : DiffConfigs(running, next)) {
    EXPECT_TRUE(c.reloadable) << c.key;
  }
}

TEST(ConfigLogFormat, NamesAndErrors) {
  EXPECT_EQ(Load("").log.access_log_format, AccessLogFormat::kCommonDuration);
  for (AccessLogFormat f : {AccessLogFormat::kCommonDuration, AccessLogFormat::kCommon,
                            AccessLogFormat::kCombined, AccessLogFormat::kJson}) {
    std::string text = std::string("[log]\naccess_log_format = \"") + AccessLogFormatName(f) + "\"\n";
    EXPECT_EQ(Load(text).log.access_log_format, f) << text;
  }
  Config c;
  LoadResult r = LoadFromString("[log]\naccess_log_format = \"apache\"\n", "ephpm.toml", "/srv", &c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "ephpm.toml: [log] access_log_format: unknown format \"apache\" (expected "
                     "common_duration, common, combined, json)");
  r = LoadFromString("[log]\naccess_log_format = 1\n", "ephpm.toml", "/srv", &c);
  EXPECT_EQ(r.error, "ephpm.toml: [log] access_log_format: expected a string, got integer");
}

}  // namespace
}  // namespace ephpm::config
