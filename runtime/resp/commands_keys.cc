// Key commands, for keys of any type: DEL UNLINK EXISTS EXPIRE PEXPIRE PERSIST TTL PTTL TYPE
// RENAME, and the key listings KEYS and SCAN.
#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "runtime/kv/arena.h"
#include "runtime/resp/command_table.h"

namespace ephpm::resp {
namespace {

using kv::KeyChange;
using kv::KeyState;
using kv::ValueType;

// DEL and UNLINK (the store frees at once either way).
void Del(Call& c) {
  int64_t removed = 0;
  for (size_t i = 1; i < c.args.size(); ++i) removed += c.store().Del(c.args[i]);
  AppendInteger(c.out, removed);
}

// Counts a key once per time it is named, as Redis does.
void Exists(Call& c) {
  int64_t found = 0;
  for (size_t i = 1; i < c.args.size(); ++i) found += c.store().Exists(c.args[i]) ? 1 : 0;
  AppendInteger(c.out, found);
}

// EXPIRE key seconds / PEXPIRE key ms. A time <= 0 deletes the key (Redis does the same).
void ExpireIn(Call& c, bool milliseconds) {
  int64_t n;
  if (!ParseInt64(c.args[2], &n)) return AppendError(c.out, kNotInteger);
  if (c.args.size() > 3) return AppendError(c.out, "ERR Unsupported option " +
                                                       std::string(c.args[3].substr(0, 64)));
  if (!milliseconds && (n > INT64_MAX / 1000 || n < INT64_MIN / 1000)) {
    return AppendError(c.out, "ERR invalid expire time in 'expire' command");
  }
  int64_t ms = milliseconds ? n : n * 1000;
  if (ms <= 0) return AppendInteger(c.out, c.store().Del(c.args[1]));
  AppendInteger(c.out, c.store().PExpire(c.args[1], ms) ? 1 : 0);
}
void Expire(Call& c) { ExpireIn(c, false); }
void PExpire(Call& c) { ExpireIn(c, true); }

void Persist(Call& c) { AppendInteger(c.out, c.store().Persist(c.args[1]) ? 1 : 0); }
void Ttl(Call& c) { AppendInteger(c.out, c.store().Ttl(c.args[1])); }
void PTtl(Call& c) { AppendInteger(c.out, c.store().Pttl(c.args[1])); }

void Type(Call& c) {
  ValueType type;
  if (!c.store().TypeOf(c.args[1], &type)) return AppendSimple(c.out, "none");
  AppendSimple(c.out, type == ValueType::kHash ? "hash" : "string");
}

// Not atomic across the two keys (they may live in different shards, and no operation holds two
// shard locks): the source is read, the destination written, then the source removed only if it
// still holds what was copied. A client racing a write to the source keeps both keys.
void Rename(Call& c) {
  std::string_view from = c.args[1], to = c.args[2];
  KeyState source;
  c.store().Update(from, [&](const KeyState& s, KeyChange*) { source = s; });
  if (!source.live) return AppendError(c.out, "ERR no such key");
  if (from == to) return AppendSimple(c.out, "OK");
  bool ok = c.store().Update(to, [&](const KeyState&, KeyChange* change) {
    change->action = KeyChange::Action::kWrite;
    change->type = source.type;
    change->value = source.value;
    change->pttl_ms = source.pttl_ms < 0 ? 0 : source.pttl_ms;
  });
  if (!ok) return AppendError(c.out, kOutOfMemory);
  c.store().Update(from, [&](const KeyState& s, KeyChange* change) {
    if (s.live && s.type == source.type && s.value == source.value) {
      change->action = KeyChange::Action::kDelete;
    }
  });
  AppendSimple(c.out, "OK");
}

// SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]: Store::Scan's guarantee (docs/kv-contract.md
// 4.7): a key live for the whole iteration is returned exactly once, others may or may not be.
void Scan(Call& c) {
  uint64_t cursor = 0;
  auto [ptr, ec] = std::from_chars(c.args[1].data(), c.args[1].data() + c.args[1].size(), cursor);
  if (ec != std::errc() || ptr != c.args[1].data() + c.args[1].size()) {
    return AppendError(c.out, "ERR invalid cursor");
  }
  std::string_view match;
  int64_t count = 10;
  std::string_view type;
  for (size_t i = 2; i < c.args.size(); i += 2) {
    if (i + 1 >= c.args.size()) return AppendError(c.out, kSyntaxError);
    if (EqualsIgnoreCase(c.args[i], "MATCH")) {
      match = c.args[i + 1] == "*" ? std::string_view() : c.args[i + 1];
    } else if (EqualsIgnoreCase(c.args[i], "COUNT")) {
      if (!ParseInt64(c.args[i + 1], &count)) return AppendError(c.out, kNotInteger);
      if (count < 1) return AppendError(c.out, kSyntaxError);
    } else if (EqualsIgnoreCase(c.args[i], "TYPE")) {
      type = c.args[i + 1];
    } else {
      return AppendError(c.out, kSyntaxError);
    }
  }
  std::vector<std::string> keys;
  cursor = c.store().Scan(cursor, static_cast<size_t>(std::min<int64_t>(count, 100000)), match,
                          &keys);
  if (!type.empty()) {
    std::erase_if(keys, [&](const std::string& key) {
      ValueType t;
      if (!c.store().TypeOf(key, &t)) return true;
      return !EqualsIgnoreCase(type, t == ValueType::kHash ? "hash" : "string");
    });
  }
  AppendArrayHeader(c.out, 2);
  AppendBulk(c.out, std::to_string(cursor));
  AppendArrayHeader(c.out, keys.size());
  for (const std::string& k : keys) AppendBulk(c.out, k);
}

// KEYS pattern: a whole scan in one reply (what Redis warns about for big stores holds here too).
void Keys(Call& c) {
  std::string_view match = c.args[1] == "*" ? std::string_view() : c.args[1];
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    cursor = c.store().Scan(cursor, 1000, match, &keys);
  } while (cursor != 0);
  AppendArrayHeader(c.out, keys.size());
  for (const std::string& k : keys) AppendBulk(c.out, k);
}

}  // namespace

const CommandSpec kKeyCommands[] = {
    {"del", -2, Del},         {"unlink", -2, Del},     {"exists", -2, Exists},
    {"expire", -3, Expire},   {"pexpire", -3, PExpire}, {"persist", 2, Persist},
    {"ttl", 2, Ttl},          {"pttl", 2, PTtl},       {"type", 2, Type},
    {"rename", 3, Rename},    {"scan", -2, Scan},      {"keys", 2, Keys},
    {nullptr, 0, nullptr},
};

}  // namespace ephpm::resp
