// ParseHostHeader and BuildRequestInfo: what PHP's $_SERVER is built from, without a socket.
#include "runtime/http/request_info.h"

#include <gtest/gtest.h>

#include "runtime/http/router.h"

namespace ephpm::http {
namespace {

TEST(ParseHostHeader, SplitsNameAndPort) {
  HostHeader h;
  ASSERT_TRUE(ParseHostHeader("example.com:8080", &h));
  EXPECT_EQ(h.host, "example.com");
  EXPECT_EQ(h.port, 8080);
  ASSERT_TRUE(ParseHostHeader("example.com", &h));
  EXPECT_EQ(h.host, "example.com");
  EXPECT_FALSE(h.port.has_value());
  ASSERT_TRUE(ParseHostHeader("example.com:", &h));
  EXPECT_EQ(h.host, "example.com");
  EXPECT_FALSE(h.port.has_value()) << "an empty port is no port";
  ASSERT_TRUE(ParseHostHeader("[::1]:9000", &h));
  EXPECT_EQ(h.host, "[::1]") << "IPv6 keeps its brackets";
  EXPECT_EQ(h.port, 9000);
  ASSERT_TRUE(ParseHostHeader("[2001:db8::ff00:42:8329]", &h));
  EXPECT_EQ(h.host, "[2001:db8::ff00:42:8329]");
  EXPECT_FALSE(h.port.has_value());
  ASSERT_TRUE(ParseHostHeader("[::ffff:192.0.2.1]:1", &h)) << "IPv4-mapped IPv6";
  EXPECT_EQ(h.port, 1);
  ASSERT_TRUE(ParseHostHeader("10.0.0.1:00080", &h)) << "leading zeros within 5 digits";
  EXPECT_EQ(h.port, 80);
  ASSERT_TRUE(ParseHostHeader("x:65535", &h));
  EXPECT_EQ(h.port, 65535);
  ASSERT_TRUE(ParseHostHeader("", &h));
  EXPECT_EQ(h.host, "");
  EXPECT_FALSE(h.port.has_value());
}

TEST(ParseHostHeader, AcceptsRfc3986RegNames) {
  HostHeader h;
  for (const char* name : {"a", "A.B-C", "under_score", "tilde~", "sub!$&'()*+,;=delims",
                           "pct%2Dencoded", "999.999.999.999", "1.2.3", "xn--bcher-kva.example",
                           "trailing.dot."}) {
    EXPECT_TRUE(ParseHostHeader(name, &h)) << name;
    EXPECT_EQ(h.host, name);
  }
}

TEST(ParseHostHeader, RejectsBadPorts) {
  HostHeader h;
  for (const char* bad : {"x:-5", "x:+5", "x:65536", "x:70000", "x:99999", "x:000080",
                          "x:12345678901234567890", "x:8o", "x:8 ", "x: 8", "x:0x50", "x::80",
                          "x:80:", "[::1]:-1", "[::1]:65536", "[::1]::80"}) {
    EXPECT_FALSE(ParseHostHeader(bad, &h)) << bad;
  }
}

TEST(ParseHostHeader, RejectsBadNames) {
  HostHeader h;
  for (const char* bad : {"user@example.com", "user:pw@example.com", "@x", "a b", " x", "x ", "\tx",
                          "x\r", "x\n", "x\x7f", "x\x01", "a/b", "a\\b", "a?b", "a#b", "a[b", "a]b",
                          "a\"b", "a<b>", "a{b}", "a|b", "a^b", "a`b", "%", "%4", "%zz", "x%g0",
                          ":80", ":", "\xc3\xa9", "\xff"}) {
    EXPECT_FALSE(ParseHostHeader(bad, &h)) << bad;
  }
  EXPECT_FALSE(ParseHostHeader(std::string_view("a\0b", 3), &h)) << "NUL";
}

TEST(ParseHostHeader, RejectsBadIpLiterals) {
  HostHeader h;
  for (const char* bad : {"[", "[]", "[::1", "::1", "[::1]x", "[:::1]", "[1:2:3:4:5:6:7:8:9]",
                          "[12345::1]", "[g::1]", "[127.0.0.1]", "[v1.fe]", "[fe80::1%eth0]",
                          "[fe80::1%25eth0]", "[ ::1]", "[::1 ]", "[::1]]", "[[::1]]",
                          "[::1]@x"}) {
    EXPECT_FALSE(ParseHostHeader(bad, &h)) << bad;
  }
  std::string long_literal = "[" + std::string(100, '1') + "]";
  EXPECT_FALSE(ParseHostHeader(long_literal, &h));
}

RequestSource Source() {
  RequestSource s;
  s.method = "POST";
  s.target = "/app/index.php/x?a=1&b=%20";
  s.query = "a=1&b=%20";
  s.version = 11;
  s.document_root = "/srv/public";
  s.local_addr = "127.0.0.1";
  s.local_port = 8080;
  s.remote_addr = "10.1.2.3";
  s.remote_port = 54321;
  s.headers = {{"Host", "example.com:9000"}, {"X-A", "1"}, {"x-a", "2"}};
  s.has_body = true;
  s.body.memory = "payload";
  s.request_time = 1700000000.25;
  return s;
}

Route PhpRoute() {
  Route r;
  r.kind = RouteKind::kPhp;
  r.file = "/srv/public/app/index.php";
  r.script_name = "/app/index.php";
  r.path_info = "/x";
  return r;
}

TEST(BuildRequestInfo, CopiesRequestAndRoute) {
  php::RequestInfo info = BuildRequestInfo(Source(), PhpRoute());
  EXPECT_EQ(info.method, "POST");
  EXPECT_EQ(info.request_uri, "/app/index.php/x?a=1&b=%20");
  EXPECT_EQ(info.query_string, "a=1&b=%20");
  EXPECT_EQ(info.protocol, "HTTP/1.1");
  EXPECT_EQ(info.proto_num, 1001);
  EXPECT_EQ(info.script_filename, "/srv/public/app/index.php");
  EXPECT_EQ(info.script_name, "/app/index.php");
  EXPECT_EQ(info.path_info, "/x");
  EXPECT_EQ(info.document_root, "/srv/public");
  EXPECT_EQ(info.server_addr, "127.0.0.1");
  EXPECT_EQ(info.remote_addr, "10.1.2.3");
  EXPECT_EQ(info.remote_port, "54321");
  EXPECT_EQ(info.server_name, "example.com");
  EXPECT_EQ(info.server_port, "9000");
  ASSERT_EQ(info.headers.size(), 3u);
  EXPECT_EQ(info.headers[0], (std::pair<std::string, std::string>{"Host", "example.com:9000"}));
  EXPECT_EQ(info.headers[2], (std::pair<std::string, std::string>{"x-a", "2"}))
      << "duplicates kept in order, names as received";
  EXPECT_TRUE(info.has_body);
  EXPECT_EQ(info.body.memory, "payload");
  EXPECT_DOUBLE_EQ(info.request_time, 1700000000.25);
}

TEST(BuildRequestInfo, Http10AndEmptyBody) {
  RequestSource s = Source();
  s.version = 10;
  s.has_body = false;
  s.body.memory.clear();
  php::RequestInfo info = BuildRequestInfo(std::move(s), PhpRoute());
  EXPECT_EQ(info.protocol, "HTTP/1.0");
  EXPECT_EQ(info.proto_num, 1000);
  EXPECT_FALSE(info.has_body);
  EXPECT_EQ(info.body.memory, "");
}

std::pair<std::string, std::string> ServerNamePort(
    std::vector<std::pair<std::string, std::string>> headers, std::string_view local_addr = "127.0.0.1",
    uint16_t local_port = 8080) {
  RequestSource s = Source();
  s.headers = std::move(headers);
  s.local_addr = local_addr;
  s.local_port = local_port;
  php::RequestInfo info = BuildRequestInfo(std::move(s), PhpRoute());
  return {info.server_name, info.server_port};
}

using NamePort = std::pair<std::string, std::string>;

TEST(BuildRequestInfo, ServerNameAndPortFromHost) {
  EXPECT_EQ(ServerNamePort({{"Host", "example.org"}}), (NamePort{"example.org", "8080"}))
      << "no port: the local port";
  EXPECT_EQ(ServerNamePort({{"Host", "example.org:"}}), (NamePort{"example.org", "8080"}))
      << "empty port: the local port";
  EXPECT_EQ(ServerNamePort({{"host", "Example.ORG:81"}}), (NamePort{"Example.ORG", "81"}))
      << "header name case-insensitive, value as received";
  EXPECT_EQ(ServerNamePort({{"HOST", "[::1]:9000"}}), (NamePort{"[::1]", "9000"}));
  EXPECT_EQ(ServerNamePort({{"Host", "[2001:db8::1]"}}), (NamePort{"[2001:db8::1]", "8080"}));
  EXPECT_EQ(ServerNamePort({{"Host", "x:00443"}}), (NamePort{"x", "443"})) << "normalised";
  EXPECT_EQ(ServerNamePort({{"Host", "x:0"}}), (NamePort{"x", "0"}));
}

TEST(BuildRequestInfo, ServerNameFallsBackToTheLocalAddress) {
  EXPECT_EQ(ServerNamePort({}), (NamePort{"127.0.0.1", "8080"})) << "no Host (HTTP/1.0)";
  EXPECT_EQ(ServerNamePort({{"Host", ""}}), (NamePort{"127.0.0.1", "8080"})) << "empty Host";
  EXPECT_EQ(ServerNamePort({}, "::1", 443), (NamePort{"[::1]", "443"})) << "IPv6 bracketed";
  EXPECT_EQ(ServerNamePort({}, "::ffff:127.0.0.1", 80), (NamePort{"[::ffff:127.0.0.1]", "80"}));
  // CheckFraming refuses these first; the builder never passes them through to PHP.
  EXPECT_EQ(ServerNamePort({{"Host", "x:-5"}}), (NamePort{"127.0.0.1", "8080"}));
  EXPECT_EQ(ServerNamePort({{"Host", "x:12345678901234567890"}}), (NamePort{"127.0.0.1", "8080"}));
  EXPECT_EQ(ServerNamePort({{"Host", "evil host"}}), (NamePort{"127.0.0.1", "8080"}));
}

TEST(BuildRequestInfo, FirstHostHeaderCounts) {
  EXPECT_EQ(ServerNamePort({{"X-Forwarded-Host", "other"}, {"Host", "a:1"}, {"Host", "b:2"}}),
            (NamePort{"a", "1"}));
}

}  // namespace
}  // namespace ephpm::http
