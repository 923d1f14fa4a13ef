// The access log's line formats (runtime/http/access_log.h) and Reopen() after a rename.
#include "runtime/http/access_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace ephpm::http {
namespace {

using config::AccessLogFormat;

class AccessLogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Text formats use local time: pin it so the expected lines are exact.
    setenv("TZ", "UTC", 1);
    tzset();
    entry_.time = std::chrono::system_clock::from_time_t(1700000000) +
                  std::chrono::milliseconds(42);  // 2023-11-14T22:13:20.042Z
    entry_.remote = "10.0.0.7";
    entry_.method = "GET";
    entry_.target = "/a?b=1";
    entry_.version = 11;
    entry_.status = 200;
    entry_.bytes = 1234;
    entry_.micros = 5678;
    entry_.referer = "https://example.com/";
    entry_.user_agent = "curl/8.0";
    entry_.host = "example.com";
  }
  AccessEntry entry_;
};

TEST_F(AccessLogFormatTest, CommonDurationIsTheDefaultAndUnchanged) {
  EXPECT_EQ(FormatAccessLine(AccessLogFormat::kCommonDuration, entry_),
            "10.0.0.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /a?b=1 HTTP/1.1\" 200 1234 5678\n");
}

TEST_F(AccessLogFormatTest, Common) {
  entry_.version = 10;
  EXPECT_EQ(FormatAccessLine(AccessLogFormat::kCommon, entry_),
            "10.0.0.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /a?b=1 HTTP/1.0\" 200 1234\n");
}

TEST_F(AccessLogFormatTest, Combined) {
  EXPECT_EQ(FormatAccessLine(AccessLogFormat::kCombined, entry_),
            "10.0.0.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /a?b=1 HTTP/1.1\" 200 1234 "
            "\"https://example.com/\" \"curl/8.0\"\n");
  entry_.referer = "";
  entry_.user_agent = "";
  EXPECT_EQ(FormatAccessLine(AccessLogFormat::kCombined, entry_),
            "10.0.0.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /a?b=1 HTTP/1.1\" 200 1234 "
            "\"-\" \"-\"\n");
}

TEST_F(AccessLogFormatTest, CombinedEscapesLikeNginx) {
  entry_.target = std::string_view("/q\"\\\x01\xc3\xa9", 7);
  entry_.user_agent = "a \"quoted\" agent\n";
  EXPECT_EQ(FormatAccessLine(AccessLogFormat::kCombined, entry_),
            "10.0.0.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /q\\x22\\x5C\\x01\\xC3\\xA9 "
            "HTTP/1.1\" 200 1234 \"https://example.com/\" "
            "\"a \\x22quoted\\x22 agent\\x0A\"\n");
}

TEST_F(AccessLogFormatTest, Json) {
  EXPECT_EQ(FormatAccessLine(AccessLogFormat::kJson, entry_),
            "{\"time\":\"2023-11-14T22:13:20.042Z\",\"remote_addr\":\"10.0.0.7\",\"method\":\"GET\","
            "\"uri\":\"/a?b=1\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":1234,"
            "\"duration_us\":5678,\"referer\":\"https://example.com/\",\"user_agent\":\"curl/8.0\","
            "\"host\":\"example.com\"}\n");
}

TEST_F(AccessLogFormatTest, JsonEscapesAndKeepsUtf8) {
  // Valid UTF-8 (é, U+1F600) stays; quotes, backslash and control bytes are escaped; a lone
  // continuation byte, an overlong form and a surrogate are not UTF-8 and become \u00HH.
  entry_.target = std::string_view("/\xc3\xa9\xf0\x9f\x98\x80\"\\\n\x80\xc0\xaf\xed\xa0\x80", 16);
  std::string line = FormatAccessLine(AccessLogFormat::kJson, entry_);
  EXPECT_NE(line.find("\"uri\":\"/\xc3\xa9\xf0\x9f\x98\x80\\\"\\\\\\u000a\\u0080\\u00c0\\u00af"
                      "\\u00ed\\u00a0\\u0080\","),
            std::string::npos)
      << line;
  entry_.user_agent = std::string_view("\x7f\xe2\x82", 3);  // DEL is fine; a cut sequence is not
  line = FormatAccessLine(AccessLogFormat::kJson, entry_);
  EXPECT_NE(line.find("\"user_agent\":\"\x7f\\u00e2\\u0082\""), std::string::npos) << line;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST_F(AccessLogFormatTest, ReopenAfterRenameWritesToANewFile) {
  char dir[] = "/tmp/ephpm-access-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/access.log";
  {
    AccessLog log(path, AccessLogFormat::kCommon);
    ASSERT_TRUE(log.enabled());
    log.Log(entry_);
    ASSERT_EQ(rename(path.c_str(), (path + ".1").c_str()), 0);
    entry_.status = 404;
    log.Log(entry_);  // still the renamed file, as with logrotate before the signal
    log.Reopen();
    entry_.status = 500;
    log.Log(entry_);
  }
  std::string rotated = ReadFile(path + ".1");
  std::string fresh = ReadFile(path);
  EXPECT_NE(rotated.find("\" 200 1234\n"), std::string::npos) << rotated;
  EXPECT_NE(rotated.find("\" 404 1234\n"), std::string::npos) << rotated;
  EXPECT_EQ(rotated.find("\" 500 "), std::string::npos) << rotated;
  EXPECT_EQ(fresh, "10.0.0.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /a?b=1 HTTP/1.1\" 500 1234\n");
  unlink(path.c_str());
  unlink((path + ".1").c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace ephpm::http
