// Internal to runtime/resp: how the command files register their handlers with commands.cc, and
// the helpers they share (argument parsing, the standard error replies).
#ifndef EPHPM_RUNTIME_RESP_COMMAND_TABLE_H_
#define EPHPM_RUNTIME_RESP_COMMAND_TABLE_H_

#include <string>
#include <string_view>

#include "runtime/resp/commands.h"
#include "runtime/resp/protocol.h"

namespace ephpm::resp {

struct Call {
  ServerState* server;
  Session* session;
  const Args& args;
  std::string* out;
  kv::Store& store() const { return *server->store; }
};

using Handler = void (*)(Call& call);

struct CommandSpec {
  const char* name;  // lower case, as Redis reports it
  int arity;         // Redis's rule: > 0 exact argument count (name included), < 0 at least -arity
  Handler handler;
};

// The tables of commands_conn.cc, commands_string.cc, commands_keys.cc, commands_hash.cc.
extern const CommandSpec kConnectionCommands[];
extern const CommandSpec kStringCommands[];
extern const CommandSpec kKeyCommands[];
extern const CommandSpec kHashCommands[];
size_t CommandCount();  // all tables together (COMMAND COUNT)

// Redis's error texts.
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kSyntaxError = "ERR syntax error";
inline constexpr std::string_view kOutOfMemory =
    "OOM command not allowed when used memory > 'maxmemory'.";

// A whole decimal int64 as Redis accepts it (no spaces, no '+', no leading zeros beyond "0").
bool ParseInt64(std::string_view text, int64_t* out);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace ephpm::resp

#endif  // EPHPM_RUNTIME_RESP_COMMAND_TABLE_H_
