// Dispatch: name lookup (case-insensitive), the AUTH gate, Redis's arity rule, then the handler.
#include "runtime/resp/commands.h"

#include <charconv>
#include <string>
#include <unordered_map>

#include "runtime/resp/command_table.h"

namespace ephpm::resp {
namespace {

using Table = std::unordered_map<std::string, const CommandSpec*>;

const Table& Commands() {
  static const Table table = [] {
    Table t;
    for (const CommandSpec* specs : {kConnectionCommands, kStringCommands, kKeyCommands,
                                     kHashCommands}) {
      for (const CommandSpec* s = specs; s->name != nullptr; ++s) t.emplace(s->name, s);
    }
    return t;
  }();
  return table;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Redis's text, arguments quoted and the whole cut near 128 bytes each.
void UnknownCommand(const Args& args, std::string* out) {
  std::string text = "ERR unknown command '" + std::string(args[0].substr(0, 128)) +
                     "', with args beginning with: ";
  std::string quoted;
  for (size_t i = 1; i < args.size() && quoted.size() < 128; ++i) {
    quoted += "'" + std::string(args[i].substr(0, 128 - quoted.size())) + "' ";
  }
  AppendError(out, text + quoted);
}

// Commands a connection may send before AUTH when a password is set.
bool AllowedBeforeAuth(std::string_view name) {
  return name == "auth" || name == "hello" || name == "quit";
}

}  // namespace

size_t CommandCount() { return Commands().size(); }

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  if (text.size() > 1 && (text[0] == '0' || (text[0] == '-' && text[1] == '0'))) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void Execute(ServerState* server, Session* session, const Args& args, std::string* out) {
  ++server->commands_processed;
  std::string name = Lower(args[0].substr(0, 64));
  auto it = Commands().find(name);
  if (!server->password.empty() && !session->authenticated && !AllowedBeforeAuth(name)) {
    AppendError(out, "NOAUTH Authentication required.");
    return;
  }
  if (it == Commands().end()) return UnknownCommand(args, out);
  const CommandSpec& spec = *it->second;
  int argc = static_cast<int>(args.size());
  if ((spec.arity > 0 && argc != spec.arity) || (spec.arity < 0 && argc < -spec.arity)) {
    AppendError(out, std::string("ERR wrong number of arguments for '") + spec.name +
                         "' command");
    return;
  }
  Call call{server, session, args, out};
  spec.handler(call);
}

}  // namespace ephpm::resp
