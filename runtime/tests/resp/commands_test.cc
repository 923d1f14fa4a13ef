// The RESP commands on a private store: replies byte for byte as Redis sends them, errors worded
// as Redis words them, the AUTH gate, and what a hash looks like to the PHP-side Get.
#include "runtime/resp/commands.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "runtime/resp/protocol.h"

namespace ephpm::resp {
namespace {

using namespace std::string_literals;

class RespCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    kv::Options o;
    o.memory_limit = 64ull << 20;
    std::string error;
    store_ = kv::Store::CreatePrivate(o, &error);
    ASSERT_TRUE(store_) << error;
    state_.store = store_.get();
    session_.authenticated = true;
  }

  std::string Run(std::initializer_list<std::string_view> args) {
    Args a(args);
    std::string out;
    Execute(&state_, &session_, a, &out);
    return out;
  }

  std::unique_ptr<kv::Store> store_;
  ServerState state_;
  Session session_;
};

TEST_F(RespCommands, PingEchoSelectQuit) {
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(Run({"ECHO", "x y"}), "$3\r\nx y\r\n");
  EXPECT_EQ(Run({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(Run({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run({"SELECT", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_FALSE(session_.close_after_reply);
  EXPECT_EQ(Run({"QUIT"}), "+OK\r\n");
  EXPECT_TRUE(session_.close_after_reply);
}

TEST_F(RespCommands, UnknownCommandAndArityErrorsAreRedisWording) {
  EXPECT_EQ(Run({"NOPE", "a", "b"}),
            "-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(Run({"EVAL", "return 1", "0"}),
            "-ERR unknown command 'EVAL', with args beginning with: 'return 1' '0' \r\n");
  EXPECT_EQ(Run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run({"get", "a", "b"}), "-ERR wrong number of arguments for 'get' command\r\n");
}

TEST_F(RespCommands, SetGetAndOptions) {
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(Run({"SET", "k", "v1"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$2\r\nv1\r\n");
  EXPECT_EQ(Run({"SET", "k", "v2", "NX"}), "$-1\r\n");
  EXPECT_EQ(Run({"SET", "k", "v2", "XX", "GET"}), "$2\r\nv1\r\n");
  EXPECT_EQ(Run({"SET", "n", "v", "XX"}), "$-1\r\n");
  EXPECT_EQ(Run({"EXISTS", "n"}), ":0\r\n");
  EXPECT_EQ(Run({"SET", "k", "v3", "EX", "100"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":100\r\n");
  EXPECT_EQ(Run({"SET", "k", "v4", "KEEPTTL"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":100\r\n");
  EXPECT_EQ(Run({"SET", "k", "v5"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "PX", "1500"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":2\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "0"}), "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "x"}),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "NX", "XX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "1", "KEEPTTL"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "v", "BOGUS"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "bin", "a\0b"s}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "bin"}), "$3\r\na\0b\r\n"s);
}

TEST_F(RespCommands, StringFamily) {
  EXPECT_EQ(Run({"SETNX", "a", "1"}), ":1\r\n");
  EXPECT_EQ(Run({"SETNX", "a", "2"}), ":0\r\n");
  EXPECT_EQ(Run({"GETSET", "a", "3"}), "$1\r\n1\r\n");
  EXPECT_EQ(Run({"APPEND", "a", "45"}), ":3\r\n");
  EXPECT_EQ(Run({"STRLEN", "a"}), ":3\r\n");
  EXPECT_EQ(Run({"STRLEN", "none"}), ":0\r\n");
  EXPECT_EQ(Run({"APPEND", "new", "xy"}), ":2\r\n");
  EXPECT_EQ(Run({"MSET", "m1", "x", "m2", "y"}), "+OK\r\n");
  EXPECT_EQ(Run({"MSET", "m1", "x", "m2"}), "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(Run({"MGET", "m1", "none", "m2"}), "*3\r\n$1\r\nx\r\n$-1\r\n$1\r\ny\r\n");
  EXPECT_EQ(Run({"GETDEL", "m1"}), "$1\r\nx\r\n");
  EXPECT_EQ(Run({"GETDEL", "m1"}), "$-1\r\n");
  EXPECT_EQ(Run({"SETEX", "e", "50", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "e"}), ":50\r\n");
  EXPECT_EQ(Run({"SETEX", "e", "0", "v"}), "-ERR invalid expire time in 'setex' command\r\n");
  EXPECT_EQ(Run({"PSETEX", "p", "2500", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "p"}), ":3\r\n");
  EXPECT_EQ(Run({"GET", "p"}), "$1\r\nv\r\n");
}

TEST_F(RespCommands, Counters) {
  EXPECT_EQ(Run({"INCR", "c"}), ":1\r\n");
  EXPECT_EQ(Run({"INCRBY", "c", "41"}), ":42\r\n");
  EXPECT_EQ(Run({"DECR", "c"}), ":41\r\n");
  EXPECT_EQ(Run({"DECRBY", "c", "50"}), ":-9\r\n");
  EXPECT_EQ(Run({"INCRBY", "c", "1.5"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"SET", "s", "abc"}), "+OK\r\n");
  EXPECT_EQ(Run({"INCR", "s"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"SET", "big", "9223372036854775807"}), "+OK\r\n");
  EXPECT_EQ(Run({"INCR", "big"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(Run({"DECRBY", "c", "-9223372036854775808"}), "-ERR decrement would overflow\r\n");
}

TEST_F(RespCommands, KeysAndExpiry) {
  Run({"SET", "a", "1"});
  Run({"SET", "b", "2"});
  EXPECT_EQ(Run({"EXISTS", "a", "b", "a", "zz"}), ":3\r\n");
  EXPECT_EQ(Run({"TTL", "a"}), ":-1\r\n");
  EXPECT_EQ(Run({"TTL", "zz"}), ":-2\r\n");
  EXPECT_EQ(Run({"PTTL", "zz"}), ":-2\r\n");
  EXPECT_EQ(Run({"EXPIRE", "a", "100"}), ":1\r\n");
  EXPECT_EQ(Run({"EXPIRE", "zz", "100"}), ":0\r\n");
  EXPECT_EQ(Run({"TTL", "a"}), ":100\r\n");
  EXPECT_EQ(Run({"PERSIST", "a"}), ":1\r\n");
  EXPECT_EQ(Run({"PERSIST", "a"}), ":0\r\n");
  EXPECT_EQ(Run({"TTL", "a"}), ":-1\r\n");
  EXPECT_EQ(Run({"PEXPIRE", "a", "100000"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "a"}), ":100\r\n");
  EXPECT_EQ(Run({"PEXPIRE", "a", "1"}), ":1\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(Run({"GET", "a"}), "$-1\r\n");
  EXPECT_EQ(Run({"EXPIRE", "b", "0"}), ":1\r\n");  // deletes, as Redis does
  EXPECT_EQ(Run({"EXISTS", "b"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "b", "x"}), "-ERR value is not an integer or out of range\r\n");
  Run({"SET", "c", "3"});
  Run({"SET", "d", "4"});
  EXPECT_EQ(Run({"DEL", "c", "d", "none"}), ":2\r\n");
  Run({"SET", "c", "3"});
  EXPECT_EQ(Run({"UNLINK", "c"}), ":1\r\n");
  EXPECT_EQ(Run({"TYPE", "c"}), "+none\r\n");
  Run({"SET", "c", "3"});
  EXPECT_EQ(Run({"TYPE", "c"}), "+string\r\n");
}

TEST_F(RespCommands, RenameKeepsValueTypeAndTtl) {
  EXPECT_EQ(Run({"RENAME", "none", "x"}), "-ERR no such key\r\n");
  Run({"SET", "src", "v", "EX", "100"});
  EXPECT_EQ(Run({"RENAME", "src", "dst"}), "+OK\r\n");
  EXPECT_EQ(Run({"EXISTS", "src"}), ":0\r\n");
  EXPECT_EQ(Run({"GET", "dst"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"TTL", "dst"}), ":100\r\n");
  Run({"HSET", "h", "f", "v"});
  EXPECT_EQ(Run({"RENAME", "h", "h2"}), "+OK\r\n");
  EXPECT_EQ(Run({"HGET", "h2", "f"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"TTL", "h2"}), ":-1\r\n");
}

TEST_F(RespCommands, Hashes) {
  EXPECT_EQ(Run({"HSET", "h", "f1", "v1", "f2", "v2"}), ":2\r\n");
  EXPECT_EQ(Run({"HSET", "h", "f1", "V1", "f3", "v3"}), ":1\r\n");
  EXPECT_EQ(Run({"HGET", "h", "f1"}), "$2\r\nV1\r\n");
  EXPECT_EQ(Run({"HGET", "h", "nope"}), "$-1\r\n");
  EXPECT_EQ(Run({"HGET", "none", "f"}), "$-1\r\n");
  EXPECT_EQ(Run({"HLEN", "h"}), ":3\r\n");
  EXPECT_EQ(Run({"HEXISTS", "h", "f2"}), ":1\r\n");
  EXPECT_EQ(Run({"HKEYS", "h"}), "*3\r\n$2\r\nf1\r\n$2\r\nf2\r\n$2\r\nf3\r\n");
  EXPECT_EQ(Run({"HVALS", "h"}), "*3\r\n$2\r\nV1\r\n$2\r\nv2\r\n$2\r\nv3\r\n");
  EXPECT_EQ(Run({"HGETALL", "h"}),
            "*6\r\n$2\r\nf1\r\n$2\r\nV1\r\n$2\r\nf2\r\n$2\r\nv2\r\n$2\r\nf3\r\n$2\r\nv3\r\n");
  EXPECT_EQ(Run({"HMGET", "h", "f3", "x"}), "*2\r\n$2\r\nv3\r\n$-1\r\n");
  EXPECT_EQ(Run({"HSETNX", "h", "f3", "z"}), ":0\r\n");
  EXPECT_EQ(Run({"HMSET", "h", "f4", "v4"}), "+OK\r\n");
  EXPECT_EQ(Run({"HDEL", "h", "f1", "f2", "nope"}), ":2\r\n");
  EXPECT_EQ(Run({"HSET", "h", "odd"}), "-ERR wrong number of arguments for 'hset' command\r\n");
  EXPECT_EQ(Run({"TYPE", "h"}), "+hash\r\n");
  EXPECT_EQ(Run({"EXPIRE", "h", "100"}), ":1\r\n");
  EXPECT_EQ(Run({"HSET", "h", "f5", "v5"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "h"}), ":100\r\n");  // a field write keeps the key's expiry
  EXPECT_EQ(Run({"HDEL", "h", "f3", "f4", "f5"}), ":3\r\n");
  EXPECT_EQ(Run({"EXISTS", "h"}), ":0\r\n");  // emptied: deleted
}

TEST_F(RespCommands, WrongTypeBothWays) {
  const std::string wrong =
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
  Run({"HSET", "h", "f", "v"});
  Run({"SET", "s", "v"});
  EXPECT_EQ(Run({"GET", "h"}), wrong);
  EXPECT_EQ(Run({"APPEND", "h", "x"}), wrong);
  EXPECT_EQ(Run({"INCR", "h"}), wrong);
  EXPECT_EQ(Run({"STRLEN", "h"}), wrong);
  EXPECT_EQ(Run({"GETSET", "h", "x"}), wrong);
  EXPECT_EQ(Run({"SET", "h", "x", "GET"}), wrong);
  EXPECT_EQ(Run({"MGET", "h", "s"}), "*2\r\n$-1\r\n$1\r\nv\r\n");
  EXPECT_EQ(Run({"HGET", "s", "f"}), wrong);
  EXPECT_EQ(Run({"HSET", "s", "f", "v"}), wrong);
  EXPECT_EQ(Run({"HGETALL", "s"}), wrong);
  // The PHP side sees a hash as a miss (docs/kv-contract.md 4.8), and SET replaces it.
  std::string value;
  EXPECT_FALSE(store_->Get("h", &value));
  EXPECT_TRUE(store_->Exists("h"));
  EXPECT_EQ(Run({"SET", "h", "now a string"}), "+OK\r\n");
  EXPECT_EQ(Run({"TYPE", "h"}), "+string\r\n");
  EXPECT_TRUE(store_->Get("h", &value));
  EXPECT_EQ(value, "now a string");
}

TEST_F(RespCommands, ScanAndKeys) {
  for (int i = 0; i < 300; ++i) Run({"SET", "user:" + std::to_string(i), "v"});
  for (int i = 0; i < 20; ++i) Run({"HSET", "hash:" + std::to_string(i), "f", "v"});
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    std::string reply = Run({"SCAN", cursor, "MATCH", "user:*", "COUNT", "50"});
    ASSERT_EQ(reply.rfind("*2\r\n$", 0), 0u) << reply;
    size_t cursor_start = reply.find("\r\n", 5) + 2;
    cursor = reply.substr(cursor_start, reply.find("\r\n", cursor_start) - cursor_start);
    for (size_t p = reply.find("user:"); p != std::string::npos; p = reply.find("user:", p + 1)) {
      std::string key = reply.substr(p, reply.find("\r\n", p) - p);
      EXPECT_TRUE(seen.insert(key).second) << "returned twice: " << key;
    }
    ++calls;
  } while (cursor != "0" && calls < 10000);
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_GT(calls, 1);
  std::string hashes = Run({"KEYS", "hash:1?"});
  EXPECT_EQ(hashes.rfind("*10\r\n", 0), 0u) << hashes;
  EXPECT_EQ(Run({"KEYS", "nothing*"}), "*0\r\n");
  std::string typed = Run({"SCAN", "0", "COUNT", "100000", "TYPE", "hash"});
  EXPECT_NE(typed.find("*20\r\n"), std::string::npos) << typed.substr(0, 40);
  EXPECT_EQ(Run({"SCAN", "x"}), "-ERR invalid cursor\r\n");
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "0"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SCAN", "0", "MATCH"}), "-ERR syntax error\r\n");
}

TEST_F(RespCommands, ServerCommands) {
  Run({"SET", "a", "1"});
  Run({"HSET", "h", "f", "v"});
  EXPECT_EQ(Run({"DBSIZE"}), ":2\r\n");
  std::string info = Run({"INFO", "server"});
  EXPECT_NE(info.find("redis_version:7.0.0\r\n"), std::string::npos) << info;
  EXPECT_EQ(info.find("# Keyspace"), std::string::npos);
  EXPECT_NE(Run({"INFO"}).find("db0:keys=2,"), std::string::npos);
  EXPECT_EQ(Run({"COMMAND", "DOCS"}), "*0\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "me"}), "+OK\r\n");
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), "$2\r\nme\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETINFO", "LIB-NAME", "predis"}), "+OK\r\n");
  std::string hello = Run({"HELLO", "2"});
  EXPECT_EQ(hello.rfind("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n", 0), 0u) << hello;
  EXPECT_EQ(Run({"HELLO", "3"}), "-NOPROTO sorry, this protocol version is not supported.\r\n");
  EXPECT_EQ(Run({"FLUSHDB"}), "+OK\r\n");
  EXPECT_EQ(Run({"DBSIZE"}), ":0\r\n");
  Run({"SET", "a", "1"});
  EXPECT_EQ(Run({"FLUSHALL", "ASYNC"}), "+OK\r\n");
  EXPECT_EQ(Run({"DBSIZE"}), ":0\r\n");
}

TEST_F(RespCommands, AuthGate) {
  state_.password = "s3cret";
  session_.authenticated = false;
  EXPECT_EQ(Run({"GET", "a"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(Run({"PING"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(Run({"NOPE"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(Run({"AUTH", "wrong"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Run({"AUTH", "other", "s3cret"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Run({"HELLO", "2"}).rfind("-NOAUTH HELLO must be called", 0), 0u);
  EXPECT_EQ(Run({"AUTH", "s3cret"}), "+OK\r\n");
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  session_.authenticated = false;
  EXPECT_EQ(Run({"HELLO", "2", "AUTH", "default", "s3cret"}).substr(0, 5), "*14\r\n");
  EXPECT_TRUE(session_.authenticated);
  state_.password.clear();
  EXPECT_EQ(Run({"AUTH", "x"}).rfind("-ERR AUTH <password> called without any password", 0), 0u);
}


// Random and mutated frames through the parser and, when they parse, the commands: every reply is
// one well-formed RESP value and nothing crashes (this binary also runs under ASan/UBSan).
TEST_F(RespCommands, RandomFramesThroughParserAndCommands) {
  std::mt19937_64 rng(20261205);
  const std::vector<std::string> words = {"SET", "GET", "HSET", "HGETALL", "APPEND", "INCRBY",
                                          "EXPIRE", "PEXPIRE", "SCAN", "KEYS", "RENAME", "MGET",
                                          "DEL", "GETSET", "SET", "EX", "PX", "NX", "XX", "GET",
                                          "KEEPTTL", "MATCH", "COUNT", "*", "k", "h", "0", "-1",
                                          "9223372036854775807", "", "HDEL", "TYPE", "PERSIST"};
  std::vector<std::string_view> args;
  for (int i = 0; i < 20000; ++i) {
    std::string frame;
    int argc = static_cast<int>(rng() % 6);
    frame += "*" + std::to_string(argc) + "\r\n";
    for (int a = 0; a < argc; ++a) {
      const std::string& w = words[rng() % words.size()];
      frame += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
    }
    for (int m = static_cast<int>(rng() % 3); m > 0 && !frame.empty(); --m) {
      frame[rng() % frame.size()] = static_cast<char>(rng() % 256);
    }
    size_t consumed = 0;
    std::string error;
    if (ParseCommand(frame, 1 << 16, &args, &consumed, &error) != ParseStatus::kCommand ||
        args.empty()) {
      continue;
    }
    std::string out;
    Execute(&state_, &session_, args, &out);
    ASSERT_FALSE(out.empty());
    ASSERT_NE(std::string("+-:$*").find(out[0]), std::string::npos) << out;
    ASSERT_EQ(out.substr(out.size() - 2), "\r\n");
    session_.close_after_reply = false;
  }
}

}  // namespace
}  // namespace ephpm::resp
