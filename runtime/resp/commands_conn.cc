// Connection and server commands: PING ECHO QUIT AUTH HELLO SELECT CLIENT COMMAND INFO DBSIZE
// FLUSHDB FLUSHALL. There is one database (0) and one user ("default").
#include <string>

#include "runtime/resp/command_table.h"

namespace ephpm::resp {
namespace {

// What INFO and HELLO report as the server's version: Symfony's RedisAdapter picks SCAN (not a
// Lua script) to clear a namespace from redis_version >= 2.8, and UNLINK from 4.0.
constexpr const char* kRedisVersion = "7.0.0";

// Compares without an early exit, so the time taken says nothing about the password.
bool SamePassword(std::string_view given, const std::string& expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0;
}

// AUTH [username] password; false with the error appended.
bool Authenticate(Call& c, std::string_view user, std::string_view password) {
  if (c.server->password.empty()) {
    AppendError(c.out, "ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
    return false;
  }
  if (user != "default" || !SamePassword(password, c.server->password)) {
    AppendError(c.out, "WRONGPASS invalid username-password pair or user is disabled.");
    return false;
  }
  c.session->authenticated = true;
  return true;
}

void Ping(Call& c) {
  if (c.args.size() > 2) {
    return AppendError(c.out, "ERR wrong number of arguments for 'ping' command");
  }
  if (c.args.size() == 2) return AppendBulk(c.out, c.args[1]);
  AppendSimple(c.out, "PONG");
}

void Echo(Call& c) { AppendBulk(c.out, c.args[1]); }

void Quit(Call& c) {
  c.session->close_after_reply = true;
  AppendSimple(c.out, "OK");
}

void Auth(Call& c) {
  if (c.args.size() > 3) return AppendError(c.out, kSyntaxError);
  bool ok = c.args.size() == 2 ? Authenticate(c, "default", c.args[1])
                               : Authenticate(c, c.args[1], c.args[2]);
  if (ok) AppendSimple(c.out, "OK");
}

// HELLO [protover [AUTH user pass] [SETNAME name]]: RESP2 only.
void Hello(Call& c) {
  const Args& a = c.args;
  if (a.size() >= 2) {
    int64_t version;
    if (!ParseInt64(a[1], &version)) {
      return AppendError(c.out, "ERR Protocol version is not an integer or out of range");
    }
    if (version != 2) return AppendError(c.out, "NOPROTO sorry, this protocol version is not supported.");
  }
  std::string name = c.session->name;
  for (size_t i = 2; i < a.size(); ++i) {
    if (EqualsIgnoreCase(a[i], "AUTH") && i + 2 < a.size()) {
      if (!Authenticate(c, a[i + 1], a[i + 2])) return;
      i += 2;
    } else if (EqualsIgnoreCase(a[i], "SETNAME") && i + 1 < a.size()) {
      name = std::string(a[++i]);
    } else {
      return AppendError(c.out, "ERR Syntax error in HELLO option '" + std::string(a[i]) + "'");
    }
  }
  if (!c.server->password.empty() && !c.session->authenticated) {
    return AppendError(c.out, "NOAUTH HELLO must be called with the client already "
                              "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
                              "option can be used to authenticate the client and select the "
                              "RESP protocol version at the same time");
  }
  c.session->name = name;
  AppendArrayHeader(c.out, 14);
  AppendBulk(c.out, "server");
  AppendBulk(c.out, "redis");
  AppendBulk(c.out, "version");
  AppendBulk(c.out, kRedisVersion);
  AppendBulk(c.out, "proto");
  AppendInteger(c.out, 2);
  AppendBulk(c.out, "id");
  AppendInteger(c.out, static_cast<int64_t>(c.session->id));
  AppendBulk(c.out, "mode");
  AppendBulk(c.out, "standalone");
  AppendBulk(c.out, "role");
  AppendBulk(c.out, "master");
  AppendBulk(c.out, "modules");
  AppendArrayHeader(c.out, 0);
}

void Select(Call& c) {
  int64_t db;
  if (!ParseInt64(c.args[1], &db)) return AppendError(c.out, kNotInteger);
  if (db != 0) return AppendError(c.out, "ERR DB index is out of range");
  AppendSimple(c.out, "OK");
}

// CLIENT SETNAME/GETNAME/ID/SETINFO (what client libraries send when they connect).
void Client(Call& c) {
  std::string_view sub = c.args[1];
  if (EqualsIgnoreCase(sub, "SETNAME") && c.args.size() == 3) {
    c.session->name = std::string(c.args[2]);
    return AppendSimple(c.out, "OK");
  }
  if (EqualsIgnoreCase(sub, "GETNAME") && c.args.size() == 2) {
    if (c.session->name.empty()) return AppendNull(c.out);
    return AppendBulk(c.out, c.session->name);
  }
  if (EqualsIgnoreCase(sub, "ID") && c.args.size() == 2) {
    return AppendInteger(c.out, static_cast<int64_t>(c.session->id));
  }
  if (EqualsIgnoreCase(sub, "SETINFO") && c.args.size() == 4) return AppendSimple(c.out, "OK");
  AppendError(c.out, "ERR unknown subcommand '" + std::string(sub.substr(0, 128)) +
                         "'. Try CLIENT HELP.");
}

// COMMAND with no argument, DOCS or INFO: an empty list (clients use it only for hints);
// COUNT: how many commands there are.
void Command(Call& c) {
  if (c.args.size() >= 2 && EqualsIgnoreCase(c.args[1], "COUNT")) {
    return AppendInteger(c.out, static_cast<int64_t>(CommandCount()));
  }
  AppendArrayHeader(c.out, 0);
}

void Info(Call& c) {
  std::string section = c.args.size() >= 2 ? std::string(c.args[1]) : "default";
  for (char& ch : section) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  bool all = section == "default" || section == "all" || section == "everything";
  kv::Stats st = c.store().GetStats();
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now() - c.server->started).count();
  std::string text;
  auto line = [&text](const std::string& k, const std::string& v) {
    text += k + ":" + v + "\r\n";
  };
  if (all || section == "server") {
    text += "# Server\r\n";
    line("redis_version", kRedisVersion);
    line("redis_mode", "standalone");
    line("ephpm_resp", "1");
    line("tcp_port", std::to_string(c.server->port));
    line("uptime_in_seconds", std::to_string(uptime));
  }
  if (all || section == "clients") {
    text += "# Clients\r\n";
    line("connected_clients", std::to_string(c.server->connections));
    line("maxclients", std::to_string(c.server->max_connections));
  }
  if (all || section == "memory") {
    text += "# Memory\r\n";
    line("used_memory", std::to_string(st.used_memory));
    line("maxmemory", std::to_string(st.memory_limit));
  }
  if (all || section == "stats") {
    text += "# Stats\r\n";
    line("total_connections_received", std::to_string(c.server->total_connections));
    line("total_commands_processed", std::to_string(c.server->commands_processed));
    line("keyspace_hits", std::to_string(st.hits));
    line("keyspace_misses", std::to_string(st.misses));
    line("expired_keys", std::to_string(st.expired));
    line("evicted_keys", std::to_string(st.evictions));
  }
  if (all || section == "keyspace") {
    text += "# Keyspace\r\n";
    if (st.keys > 0) {
      line("db0", "keys=" + std::to_string(st.keys) + ",expires=" + std::to_string(st.expires) +
                      ",avg_ttl=0");
    }
  }
  AppendBulk(c.out, text);
}

void DbSize(Call& c) { AppendInteger(c.out, static_cast<int64_t>(c.store().GetStats().keys)); }

// FLUSHDB / FLUSHALL [ASYNC|SYNC]: both empty the one store, at once.
void Flush(Call& c) {
  if (c.args.size() == 2 && !EqualsIgnoreCase(c.args[1], "ASYNC") &&
      !EqualsIgnoreCase(c.args[1], "SYNC")) {
    return AppendError(c.out, kSyntaxError);
  }
  c.store().FlushAll();
  AppendSimple(c.out, "OK");
}

}  // namespace

const CommandSpec kConnectionCommands[] = {
    {"ping", -1, Ping},       {"echo", 2, Echo},     {"quit", -1, Quit},
    {"auth", -2, Auth},       {"hello", -1, Hello},  {"select", 2, Select},
    {"client", -2, Client},   {"command", -1, Command}, {"info", -1, Info},
    {"dbsize", 1, DbSize},    {"flushdb", -1, Flush}, {"flushall", -1, Flush},
    {nullptr, 0, nullptr},
};

}  // namespace ephpm::resp
