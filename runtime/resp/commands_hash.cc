// Hash commands: HSET HMSET HSETNX HGET HMGET HDEL HEXISTS HGETALL HKEYS HVALS HLEN. A hash is one
// store entry of ValueType::kHash holding all its fields (hash_value.h): every command reads or
// rewrites the whole entry under the key's lock, so it suits the small hashes sessions and caches
// use, not hashes of millions of fields. An empty hash is deleted, as in Redis.
#include <string>

#include "runtime/kv/arena.h"
#include "runtime/resp/command_table.h"
#include "runtime/resp/hash_value.h"

namespace ephpm::resp {
namespace {

using kv::KeyChange;
using kv::KeyState;
using kv::ValueType;

enum class Outcome { kOk, kWrongType, kRefused };

// Reads the key's hash (empty when missing). kWrongType for a string.
Outcome ReadHash(Call& c, HashFields* fields) {
  bool wrong_type = false;
  c.store().Update(c.args[1], [&](const KeyState& s, KeyChange*) {
    if (!s.live) return;
    if (s.type != ValueType::kHash) {
      wrong_type = true;
      return;
    }
    DecodeHash(s.value, fields);
  });
  return wrong_type ? Outcome::kWrongType : Outcome::kOk;
}

// Runs `edit` on the key's fields under its lock and stores the result (deleting an emptied
// hash); the key keeps its expiry.
template <typename Edit>
Outcome EditHash(Call& c, Edit edit) {
  bool wrong_type = false;
  bool ok = c.store().Update(c.args[1], [&](const KeyState& s, KeyChange* change) {
    HashFields fields;
    if (s.live && s.type != ValueType::kHash) {
      wrong_type = true;
      return;
    }
    if (s.live) DecodeHash(s.value, &fields);
    if (!edit(fields)) return;
    if (fields.empty()) {
      change->action = KeyChange::Action::kDelete;
      return;
    }
    change->action = KeyChange::Action::kWrite;
    change->type = ValueType::kHash;
    change->value = EncodeHash(fields);
    change->pttl_ms = -1;
  });
  if (wrong_type) return Outcome::kWrongType;
  return ok ? Outcome::kOk : Outcome::kRefused;
}

bool ReplyFailure(Call& c, Outcome o) {
  if (o == Outcome::kWrongType) AppendError(c.out, kWrongType);
  if (o == Outcome::kRefused) AppendError(c.out, kOutOfMemory);
  return o != Outcome::kOk;
}

std::string* FindField(HashFields& fields, std::string_view name) {
  for (auto& [f, v] : fields) {
    if (f == name) return &v;
  }
  return nullptr;
}

// HSET key field value [field value ...] (count of new fields); HMSET answers +OK.
void SetFields(Call& c, bool legacy_reply) {
  if (c.args.size() % 2 != 0) {
    return AppendError(c.out, std::string("ERR wrong number of arguments for '") +
                                  (legacy_reply ? "hmset" : "hset") + "' command");
  }
  int64_t added = 0;
  Outcome o = EditHash(c, [&](HashFields& fields) {
    added = 0;
    for (size_t i = 2; i < c.args.size(); i += 2) {
      if (std::string* v = FindField(fields, c.args[i])) {
        v->assign(c.args[i + 1]);
      } else {
        fields.emplace_back(std::string(c.args[i]), std::string(c.args[i + 1]));
        ++added;
      }
    }
    return true;
  });
  if (ReplyFailure(c, o)) return;
  legacy_reply ? AppendSimple(c.out, "OK") : AppendInteger(c.out, added);
}
void HSet(Call& c) { SetFields(c, false); }
void HMSet(Call& c) { SetFields(c, true); }

void HSetNx(Call& c) {
  bool added = false;
  Outcome o = EditHash(c, [&](HashFields& fields) {
    added = FindField(fields, c.args[2]) == nullptr;
    if (added) fields.emplace_back(std::string(c.args[2]), std::string(c.args[3]));
    return added;
  });
  if (!ReplyFailure(c, o)) AppendInteger(c.out, added ? 1 : 0);
}

void HDel(Call& c) {
  int64_t removed = 0;
  Outcome o = EditHash(c, [&](HashFields& fields) {
    removed = 0;
    for (size_t i = 2; i < c.args.size(); ++i) {
      for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (it->first == c.args[i]) {
          fields.erase(it);
          ++removed;
          break;
        }
      }
    }
    return removed > 0;
  });
  if (!ReplyFailure(c, o)) AppendInteger(c.out, removed);
}

void HGet(Call& c) {
  HashFields fields;
  if (ReplyFailure(c, ReadHash(c, &fields))) return;
  const std::string* v = FindField(fields, c.args[2]);
  v ? AppendBulk(c.out, *v) : AppendNull(c.out);
}

void HMGet(Call& c) {
  HashFields fields;
  if (ReplyFailure(c, ReadHash(c, &fields))) return;
  AppendArrayHeader(c.out, c.args.size() - 2);
  for (size_t i = 2; i < c.args.size(); ++i) {
    const std::string* v = FindField(fields, c.args[i]);
    v ? AppendBulk(c.out, *v) : AppendNull(c.out);
  }
}

void HExists(Call& c) {
  HashFields fields;
  if (ReplyFailure(c, ReadHash(c, &fields))) return;
  AppendInteger(c.out, FindField(fields, c.args[2]) ? 1 : 0);
}

void HLen(Call& c) {
  HashFields fields;
  if (ReplyFailure(c, ReadHash(c, &fields))) return;
  AppendInteger(c.out, static_cast<int64_t>(fields.size()));
}

// HGETALL (field, value, ...), HKEYS, HVALS.
void ListFields(Call& c, bool keys, bool values) {
  HashFields fields;
  if (ReplyFailure(c, ReadHash(c, &fields))) return;
  AppendArrayHeader(c.out, fields.size() * ((keys ? 1 : 0) + (values ? 1 : 0)));
  for (const auto& [f, v] : fields) {
    if (keys) AppendBulk(c.out, f);
    if (values) AppendBulk(c.out, v);
  }
}
void HGetAll(Call& c) { ListFields(c, true, true); }
void HKeys(Call& c) { ListFields(c, true, false); }
void HVals(Call& c) { ListFields(c, false, true); }

}  // namespace

const CommandSpec kHashCommands[] = {
    {"hset", -4, HSet},       {"hmset", -4, HMSet},    {"hsetnx", 4, HSetNx},
    {"hget", 3, HGet},        {"hmget", -3, HMGet},    {"hdel", -3, HDel},
    {"hexists", 3, HExists},  {"hgetall", 2, HGetAll}, {"hkeys", 2, HKeys},
    {"hvals", 2, HVals},      {"hlen", 2, HLen},
    {nullptr, 0, nullptr},
};

}  // namespace ephpm::resp
