// The commands of the Redis-protocol listener: one table from name to handler, shared by every
// connection. Each handler runs one command against the store and appends exactly one reply.
// Replies and errors are worded as Redis words them, so that client libraries (phpredis,
// Predis, Symfony's RedisAdapter) react as they do with Redis.
#ifndef EPHPM_RUNTIME_RESP_COMMANDS_H_
#define EPHPM_RUNTIME_RESP_COMMANDS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/kv/store.h"

namespace ephpm::resp {

using Args = std::vector<std::string_view>;

// What one connection remembers between commands.
struct Session {
  bool authenticated = false;
  bool close_after_reply = false;  // QUIT
  std::string name;                // CLIENT SETNAME
  uint64_t id = 0;
};

// What the whole listener shares with the commands (INFO, AUTH).
struct ServerState {
  kv::Store* store = nullptr;
  std::string password;  // "" = no AUTH
  uint64_t max_connections = 0;
  uint64_t connections = 0;  // currently open
  uint64_t total_connections = 0;
  uint64_t commands_processed = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  uint16_t port = 0;
};

// Runs one command (args non-empty) and appends its reply to *out.
void Execute(ServerState* server, Session* session, const Args& args, std::string* out);

}  // namespace ephpm::resp

#endif  // EPHPM_RUNTIME_RESP_COMMANDS_H_
