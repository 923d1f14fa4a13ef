// [kv.redis_compat]: the table walk for the Redis-protocol listener's keys, apart from config.cc
// so that the listener's rules (a password is required off loopback) sit in one place.
#ifndef EPHPM_RUNTIME_CONFIG_REDIS_COMPAT_H_
#define EPHPM_RUNTIME_CONFIG_REDIS_COMPAT_H_

#include <string>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "runtime/config/config.h"

namespace ephpm::config {

struct RedisCompatIssues {
  std::string error_key;  // the key the error is about ("" = the table as a whole)
  std::string error;
  std::vector<std::pair<std::string, std::string>> warnings;  // (key, reason)
};

// Fills *out from the table. false with issues->error on the first invalid key, or when the
// listener is enabled on a non-loopback address without a password.
bool LoadRedisCompat(const toml::table& table, RedisCompatConfig* out, RedisCompatIssues* issues);

// 127.0.0.0/8, ::1 and "localhost": addresses only this machine can reach.
bool IsLoopbackHost(const std::string& host);

}  // namespace ephpm::config

#endif  // EPHPM_RUNTIME_CONFIG_REDIS_COMPAT_H_
