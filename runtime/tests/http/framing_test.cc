// CheckFraming: Transfer-Encoding / Content-Length framing (RFC 9112 section 6) and the Host
// header count and syntax, on request heads built by hand.
#include "runtime/http/framing.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace ephpm::http {
namespace {

struct Head {
  unsigned version = 11;
  std::vector<std::string> te;
  std::vector<std::string> cl;
  std::vector<std::string> host = {"example.com"};
};

// The status CheckFraming answers with (0 = accepted).
int Status(const Head& h) {
  RequestHead head;
  head.version = h.version;
  for (const auto& v : h.te) head.transfer_encoding.push_back(v);
  for (const auto& v : h.cl) head.content_length.push_back(v);
  for (const auto& v : h.host) head.host.push_back(v);
  FramingVerdict verdict = CheckFraming(head);
  if (!verdict.ok()) {
    EXPECT_NE(std::string(verdict.reason), "") << "a rejection says why";
  }
  return verdict.status;
}

Head Te(std::initializer_list<const char*> lines, unsigned version = 11) {
  Head h;
  h.version = version;
  for (const char* line : lines) h.te.emplace_back(line);
  return h;
}

Head Cl(std::initializer_list<const char*> lines) {
  Head h;
  for (const char* line : lines) h.cl.emplace_back(line);
  return h;
}

TEST(Framing, PlainRequestsAreAccepted) {
  EXPECT_EQ(Status(Head{}), 0) << "no body";
  Head v10;
  v10.version = 10;
  v10.host.clear();
  EXPECT_EQ(Status(v10), 0) << "HTTP/1.0 without Host";
  EXPECT_EQ(Status(Te({"chunked"})), 0);
  EXPECT_EQ(Status(Te({"Chunked"})), 0) << "codings are case-insensitive";
  EXPECT_EQ(Status(Te({"CHUNKED"})), 0);
  EXPECT_EQ(Status(Te({" chunked\t"})), 0) << "whitespace around the element";
  EXPECT_EQ(Status(Te({"chunked,"})), 0) << "empty list elements do not count";
  EXPECT_EQ(Status(Te({", ,chunked"})), 0);
  EXPECT_EQ(Status(Te({"", "chunked"})), 0) << "an empty line contributes no coding";
  EXPECT_EQ(Status(Cl({"0"})), 0);
  EXPECT_EQ(Status(Cl({"12345"})), 0);
  EXPECT_EQ(Status(Cl({"5", "5"})), 0) << "repeated identical lines";
  EXPECT_EQ(Status(Cl({"5, 5"})), 0) << "identical list values";
  EXPECT_EQ(Status(Cl({"18446744073709551615"})), 0) << "UINT64_MAX parses (413 is decided later)";
  EXPECT_EQ(Status(Cl({"007"})), 0) << "leading zeros are still 1*DIGIT";
}

TEST(Framing, FinalCodingNotChunkedIs400) {
  EXPECT_EQ(Status(Te({"gzip"})), 400);
  EXPECT_EQ(Status(Te({"identity"})), 400);
  EXPECT_EQ(Status(Te({"chunked, identity"})), 400);
  EXPECT_EQ(Status(Te({"chunked, gzip"})), 400);
  EXPECT_EQ(Status(Te({"chunked", "gzip"})), 400) << "the last line's coding counts";
  EXPECT_EQ(Status(Te({"chunked", "identity"})), 400);
  EXPECT_EQ(Status(Te({"xchunked"})), 400);
  EXPECT_EQ(Status(Te({"chunked;q=1"})), 400) << "chunked takes no parameters";
  EXPECT_EQ(Status(Te({"chunk ed"})), 400);
  EXPECT_EQ(Status(Te({"\"chunked\""})), 400);
  EXPECT_EQ(Status(Te({""})), 400) << "an empty Transfer-Encoding frames nothing";
  EXPECT_EQ(Status(Te({" , "})), 400);
}

TEST(Framing, ChunkedTwiceIs400) {
  EXPECT_EQ(Status(Te({"chunked, chunked"})), 400);
  EXPECT_EQ(Status(Te({"chunked", "chunked"})), 400);
  EXPECT_EQ(Status(Te({"chunked", "gzip, chunked"})), 400);
}

TEST(Framing, OtherCodingsBeforeChunkedAre501) {
  EXPECT_EQ(Status(Te({"gzip, chunked"})), 501);
  EXPECT_EQ(Status(Te({"gzip", "chunked"})), 501) << "split over lines";
  EXPECT_EQ(Status(Te({"identity, chunked"})), 501);
  EXPECT_EQ(Status(Te({"deflate,gzip,chunked"})), 501);
}

TEST(Framing, TransferEncodingWithContentLengthIs400) {
  Head h = Te({"chunked"});
  h.cl = {"5"};
  EXPECT_EQ(Status(h), 400);
  h.te = {"gzip"};
  EXPECT_EQ(Status(h), 400);
  h.te = {""};
  h.cl = {"0"};
  EXPECT_EQ(Status(h), 400) << "even an empty Transfer-Encoding";
}

TEST(Framing, TransferEncodingOnHttp10Is400) {
  EXPECT_EQ(Status(Te({"chunked"}, 10)), 400);
  EXPECT_EQ(Status(Te({"gzip"}, 10)), 400);
  Head h = Te({"chunked"}, 10);
  h.host.clear();
  EXPECT_EQ(Status(h), 400);
}

TEST(Framing, BadContentLengthIs400) {
  for (const char* bad : {"", " ", "abc", "-1", "+1", "1.5", "0x10", "1 2", "1e3", "5,", ",5", "5,,5",
                          "18446744073709551616", "99999999999999999999999", "\xd9\xa1"}) {
    EXPECT_EQ(Status(Cl({bad})), 400) << "Content-Length: " << bad;
  }
  EXPECT_EQ(Status(Cl({"3", "4"})), 400) << "conflicting lines";
  EXPECT_EQ(Status(Cl({"5, 6"})), 400) << "conflicting list values";
  EXPECT_EQ(Status(Cl({"5", "5, 6"})), 400);
  EXPECT_EQ(Status(Cl({"5", ""})), 400);
}

TEST(Framing, HostCount) {
  Head h;
  h.host.clear();
  EXPECT_EQ(Status(h), 400) << "HTTP/1.1 without Host";
  h.host = {"a", "b"};
  EXPECT_EQ(Status(h), 400) << "two Host headers on 1.1";
  h.host = {"a", "a"};
  EXPECT_EQ(Status(h), 400) << "even identical ones";
  h.version = 10;
  EXPECT_EQ(Status(h), 400) << "two Host headers on 1.0";
  h.host = {"a"};
  EXPECT_EQ(Status(h), 0);
  h.version = 11;
  h.host = {""};
  EXPECT_EQ(Status(h), 0) << "an empty Host is allowed";
}

TEST(Framing, HostSyntax) {
  for (const char* good : {"example.com", "example.com:8080", "EXAMPLE.com", "127.0.0.1:80",
                           "[::1]", "[::1]:9000", "[2001:db8::1]:443", "host:", "a-b_c~d",
                           "x:65535", "x:0", "%41bc", "[::1]:"}) {
    Head h;
    h.host = {good};
    EXPECT_EQ(Status(h), 0) << "Host: " << good;
  }
  for (const char* bad : {"x:-5", "x:65536", "x:99999", "x:123456", "x:18446744073709551616",
                          "x:80a", "x: 80", "x:80:80", "user@x", "a b", "x\t", "x\x01", "[::1",
                          "::1", "[::1]x", "[zz::1]", "[v1.x]", "[fe80::1%25eth0]",
                          "a/b", "a\\b", ":80", "%zz", "x?y", "x#y", "\xc3\xa9.com"}) {
    Head h;
    h.host = {bad};
    EXPECT_EQ(Status(h), 400) << "Host: " << bad;
  }
  Head nul;
  nul.host = {std::string("a\0b", 3)};
  EXPECT_EQ(Status(nul), 400) << "NUL inside the Host";
}

TEST(Framing, HostIsCheckedOnHttp10Too) {
  Head h;
  h.version = 10;
  h.host = {"x:-5"};
  EXPECT_EQ(Status(h), 400);
}

}  // namespace
}  // namespace ephpm::http
