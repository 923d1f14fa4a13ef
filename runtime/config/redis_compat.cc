#include "runtime/config/redis_compat.h"

#include <arpa/inet.h>

#include <cstring>

#include "runtime/config/files.h"

namespace ephpm::config {
namespace {

const char* kKnownKeys =
    "enabled, listen, password, max_connections, idle_timeout_secs, max_input_buffer";

bool Fail(RedisCompatIssues* issues, const std::string& key, const std::string& why) {
  issues->error_key = key;
  issues->error = why;
  return false;
}

bool Integer(const std::string& key, const toml::node& node, int64_t min, int64_t max,
             uint64_t* out, RedisCompatIssues* issues) {
  if (!node.is_integer()) return Fail(issues, key, "expected an integer");
  int64_t v = node.as_integer()->get();
  if (v < min || v > max) {
    return Fail(issues, key, "value " + std::to_string(v) + " out of range (" +
                                 std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  *out = static_cast<uint64_t>(v);
  return true;
}

bool String(const std::string& key, const toml::node& node, std::string* out,
            RedisCompatIssues* issues) {
  if (!node.is_string()) return Fail(issues, key, "expected a string");
  *out = node.as_string()->get();
  return true;
}

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 &&
         std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
}

bool LoadRedisCompat(const toml::table& table, RedisCompatConfig* out, RedisCompatIssues* issues) {
  RedisCompatConfig c;
  for (auto&& [name, node] : table) {
    std::string key(name.str());
    if (key == "enabled") {
      if (!node.is_boolean()) return Fail(issues, key, "expected true or false");
      c.enabled = node.as_boolean()->get();
    } else if (key == "listen") {
      std::string why;
      if (!String(key, node, &c.listen, issues)) return false;
      if (!ParseListenAddress(c.listen, &c.listen_address, &why)) return Fail(issues, key, why);
    } else if (key == "password") {
      if (!String(key, node, &c.password, issues)) return false;
      if (c.password.find_first_of("\r\n\0", 0, 3) != std::string::npos) {
        return Fail(issues, key, "must not contain newlines or NUL bytes");
      }
    } else if (key == "max_connections") {
      if (!Integer(key, node, 0, 1000000, &c.max_connections, issues)) return false;
    } else if (key == "idle_timeout_secs") {
      if (!Integer(key, node, 0, 31536000, &c.idle_timeout_secs, issues)) return false;
    } else if (key == "max_input_buffer") {
      // At least one ordinary command; at most what one connection may pin in memory.
      if (!Integer(key, node, 1024, int64_t{1} << 30, &c.max_input_buffer, issues)) return false;
    } else if (key == "socket") {
      issues->warnings.emplace_back(key, "ePHPm setting not implemented by ephpm (TCP only); "
                                         "accepted and ignored");
    } else {
      issues->warnings.emplace_back(key, std::string("unknown key, ignored (known: ") +
                                             kKnownKeys + ")");
    }
  }
  if (c.enabled && c.password.empty() && !IsLoopbackHost(c.listen_address.host)) {
    return Fail(issues, "password",
                "required when listen (" + Quote(c.listen) +
                    ") is not a loopback address: anyone who can reach it could read and "
                    "write the whole store");
  }
  *out = std::move(c);
  return true;
}

}  // namespace ephpm::config
