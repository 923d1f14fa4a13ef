// RESP framing: the request parser on whole, partial, pipelined and hostile input; the encoders.
#include "runtime/resp/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ephpm::resp {
namespace {

using namespace std::string_literals;

struct Parsed {
  ParseStatus status;
  std::vector<std::string> args;
  size_t consumed = 0;
  std::string error;
};

Parsed Parse(std::string_view input, size_t max_bulk = 1 << 20) {
  Parsed p;
  std::vector<std::string_view> args;
  p.status = ParseCommand(input, max_bulk, &args, &p.consumed, &p.error);
  for (auto a : args) p.args.emplace_back(a);
  return p;
}

TEST(RespParser, MultibulkCommandWithBinaryValue) {
  std::string frame = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\0\r\nx\r\n"s;
  Parsed p = Parse(frame);
  ASSERT_EQ(p.status, ParseStatus::kCommand);
  EXPECT_EQ(p.consumed, frame.size());
  ASSERT_EQ(p.args.size(), 3u);
  EXPECT_EQ(p.args[0], "SET");
  EXPECT_EQ(p.args[2], "v\0\r\nx"s);
}

TEST(RespParser, EveryProperPrefixIsIncomplete) {
  std::string frame = "*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n";
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_EQ(Parse(frame.substr(0, n)).status, ParseStatus::kIncomplete) << n;
  }
  EXPECT_EQ(Parse(frame).status, ParseStatus::kCommand);
}

TEST(RespParser, PipelinedCommandsOneAtATime) {
  std::string input = "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nGET k\r\n";
  Parsed a = Parse(input);
  ASSERT_EQ(a.status, ParseStatus::kCommand);
  EXPECT_EQ(a.args, std::vector<std::string>{"PING"});
  Parsed b = Parse(std::string_view(input).substr(a.consumed));
  ASSERT_EQ(b.status, ParseStatus::kCommand);
  EXPECT_EQ(b.args, (std::vector<std::string>{"ECHO", "hi"}));
  Parsed c = Parse(std::string_view(input).substr(a.consumed + b.consumed));
  ASSERT_EQ(c.status, ParseStatus::kCommand);
  EXPECT_EQ(c.args, (std::vector<std::string>{"GET", "k"}));
  EXPECT_EQ(a.consumed + b.consumed + c.consumed, input.size());
}

TEST(RespParser, InlineCommands) {
  Parsed p = Parse("  SET  key\tvalue \r\n");
  ASSERT_EQ(p.status, ParseStatus::kCommand);
  EXPECT_EQ(p.args, (std::vector<std::string>{"SET", "key", "value"}));
  Parsed empty = Parse("\r\n");
  EXPECT_EQ(empty.status, ParseStatus::kCommand);
  EXPECT_TRUE(empty.args.empty());
  EXPECT_EQ(empty.consumed, 2u);
  EXPECT_EQ(Parse("PING").status, ParseStatus::kIncomplete);
  Parsed huge = Parse(std::string(kMaxInlineBytes + 1, 'a'));
  EXPECT_EQ(huge.status, ParseStatus::kError);
  EXPECT_EQ(huge.error, "Protocol error: too big inline request");
}

TEST(RespParser, EmptyAndNegativeMultibulkAreSkipped) {
  Parsed zero = Parse("*0\r\n");
  EXPECT_EQ(zero.status, ParseStatus::kCommand);
  EXPECT_TRUE(zero.args.empty());
  Parsed negative = Parse("*-1\r\n");
  EXPECT_EQ(negative.status, ParseStatus::kCommand);
  EXPECT_TRUE(negative.args.empty());
}

TEST(RespParser, HostileFramesAreErrors) {
  struct Case {
    std::string input, error;
  } cases[] = {
      {"*2000000\r\n", "Protocol error: invalid multibulk length"},
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n$99999999999999999999\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$2000000\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'"},
      {"*1\r\n$4\r\nPINGxx", "Protocol error: bulk string not terminated by CRLF"},
      {"*1" + std::string(kMaxInlineBytes + 10, '1'), "Protocol error: too big multibulk count string"},
  };
  for (const Case& c : cases) {
    Parsed p = Parse(c.input);
    EXPECT_EQ(p.status, ParseStatus::kError) << c.input.substr(0, 40);
    EXPECT_EQ(p.error, c.error) << c.input.substr(0, 40);
  }
}

TEST(RespParser, BulkLimitIsMaxBulk) {
  EXPECT_EQ(Parse("*1\r\n$8\r\n12345678\r\n", 8).status, ParseStatus::kCommand);
  EXPECT_EQ(Parse("*1\r\n$9\r\n123456789\r\n", 8).status, ParseStatus::kError);
}

TEST(RespEncoder, Values) {
  std::string out;
  AppendSimple(&out, "OK");
  AppendError(&out, "ERR bad\r\nthing");
  AppendInteger(&out, -42);
  AppendBulk(&out, "a\0b"s);
  AppendNull(&out);
  AppendArrayHeader(&out, 2);
  AppendNullArray(&out);
  EXPECT_EQ(out, "+OK\r\n-ERR bad  thing\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*2\r\n*-1\r\n"s);
}

}  // namespace
}  // namespace ephpm::resp
