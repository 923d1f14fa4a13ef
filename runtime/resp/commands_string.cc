// String commands. Plain GET/SET/SETEX/SETNX/MGET/MSET/INCR go through the store's own calls
// (the same paths as ephpm_kv_get/set, so values are shared with PHP byte for byte); the ones
// made of a read and a write (SET with GET/XX/KEEPTTL/PX, GETSET, GETDEL, APPEND, PSETEX) run as
// one Store::Update under the key's lock.
#include <string>
#include <vector>

#include "runtime/kv/arena.h"
#include "runtime/resp/command_table.h"

namespace ephpm::resp {
namespace {

using kv::KeyChange;
using kv::KeyState;
using kv::ValueType;

bool IsHash(kv::Store& store, std::string_view key) {
  ValueType type;
  return store.TypeOf(key, &type) && type == ValueType::kHash;
}

// A miss from Store::Get is either a missing key or a hash.
void ReplyMiss(Call& c, std::string_view key) {
  if (IsHash(c.store(), key)) return AppendError(c.out, kWrongType);
  AppendNull(c.out);
}

// The value is copied out of the store once more into the reply: a buffer kept across calls saves
// an allocation per GET.
std::string& Scratch() {
  static thread_local std::string scratch;
  return scratch;
}

void Get(Call& c) {
  std::string& value = Scratch();
  if (c.store().Get(c.args[1], &value)) return AppendBulk(c.out, value);
  ReplyMiss(c, c.args[1]);
}

struct SetOptions {
  bool nx = false, xx = false, get = false, keep_ttl = false;
  int64_t expire_ms = 0;        // 0 = none
  bool whole_seconds = true;    // expire_ms came from EX (Store::Set takes seconds)
};

// Parses SET's options after key and value; false with the error appended.
bool ParseSetOptions(Call& c, SetOptions* o) {
  bool has_expire = false;
  for (size_t i = 3; i < c.args.size(); ++i) {
    std::string_view a = c.args[i];
    bool last = i + 1 == c.args.size();
    if (EqualsIgnoreCase(a, "NX") && !o->xx) {
      o->nx = true;
    } else if (EqualsIgnoreCase(a, "XX") && !o->nx) {
      o->xx = true;
    } else if (EqualsIgnoreCase(a, "GET")) {
      o->get = true;
    } else if (EqualsIgnoreCase(a, "KEEPTTL") && !has_expire) {
      o->keep_ttl = true;
    } else if ((EqualsIgnoreCase(a, "EX") || EqualsIgnoreCase(a, "PX")) && !o->keep_ttl &&
               !has_expire && !last) {
      int64_t n;
      if (!ParseInt64(c.args[++i], &n)) {
        AppendError(c.out, kNotInteger);
        return false;
      }
      o->whole_seconds = EqualsIgnoreCase(a, "EX");
      if (n <= 0 || (o->whole_seconds && n > INT64_MAX / 1000)) {
        AppendError(c.out, "ERR invalid expire time in 'set' command");
        return false;
      }
      o->expire_ms = o->whole_seconds ? n * 1000 : n;
      has_expire = true;
    } else {
      AppendError(c.out, kSyntaxError);
      return false;
    }
  }
  return true;
}

// SET with options that need the old state (GET, XX, KEEPTTL) or milliseconds (PX).
void SetUnderLock(Call& c, const SetOptions& o) {
  std::string_view value = c.args[2];
  bool wrong_type = false, written = false, had_old = false;
  std::string old;
  bool ok = c.store().Update(c.args[1], [&](const KeyState& s, KeyChange* change) {
    if (o.get && s.live && s.type != ValueType::kString) {
      wrong_type = true;
      return;
    }
    had_old = s.live;
    if (o.get && s.live) old = s.value;
    if ((o.nx && s.live) || (o.xx && !s.live)) return;
    change->action = KeyChange::Action::kWrite;
    change->type = ValueType::kString;
    change->value.assign(value);
    change->pttl_ms = o.keep_ttl ? -1 : o.expire_ms;
    written = true;
  });
  if (!ok) return AppendError(c.out, kOutOfMemory);
  if (wrong_type) return AppendError(c.out, kWrongType);
  if (o.get) return had_old ? AppendBulk(c.out, old) : AppendNull(c.out);
  if (!written) return AppendNull(c.out);
  AppendSimple(c.out, "OK");
}

void Set(Call& c) {
  SetOptions o;
  if (!ParseSetOptions(c, &o)) return;
  if (o.get || o.xx || o.keep_ttl || !o.whole_seconds) return SetUnderLock(c, o);
  int64_t seconds = o.expire_ms / 1000;
  if (o.nx) {
    if (c.store().SetNx(c.args[1], c.args[2], seconds)) return AppendSimple(c.out, "OK");
    if (c.store().Exists(c.args[1])) return AppendNull(c.out);
    return AppendError(c.out, kOutOfMemory);
  }
  if (!c.store().Set(c.args[1], c.args[2], seconds)) return AppendError(c.out, kOutOfMemory);
  AppendSimple(c.out, "OK");
}

// SETEX key seconds value / PSETEX key milliseconds value.
void SetExpiring(Call& c, bool milliseconds) {
  int64_t n;
  if (!ParseInt64(c.args[2], &n)) return AppendError(c.out, kNotInteger);
  if (n <= 0 || (!milliseconds && n > INT64_MAX / 1000)) {
    return AppendError(c.out, std::string("ERR invalid expire time in '") +
                                  (milliseconds ? "psetex" : "setex") + "' command");
  }
  SetOptions o;
  o.expire_ms = milliseconds ? n : n * 1000;
  o.whole_seconds = !milliseconds;
  if (milliseconds) {
    Args args{c.args[0], c.args[1], c.args[3]};
    Call set{c.server, c.session, args, c.out};
    return SetUnderLock(set, o);
  }
  if (!c.store().Set(c.args[1], c.args[3], n)) return AppendError(c.out, kOutOfMemory);
  AppendSimple(c.out, "OK");
}
void SetEx(Call& c) { SetExpiring(c, false); }
void PSetEx(Call& c) { SetExpiring(c, true); }

void SetNx(Call& c) {
  if (c.store().SetNx(c.args[1], c.args[2], 0)) return AppendInteger(c.out, 1);
  if (c.store().Exists(c.args[1])) return AppendInteger(c.out, 0);
  AppendError(c.out, kOutOfMemory);
}

// GETSET (new value, no expiry) and GETDEL: the old value, under the lock.
void GetAnd(Call& c, bool del) {
  bool wrong_type = false, had_old = false;
  std::string old;
  bool ok = c.store().Update(c.args[1], [&](const KeyState& s, KeyChange* change) {
    if (s.live && s.type != ValueType::kString) {
      wrong_type = true;
      return;
    }
    had_old = s.live;
    old = s.value;
    if (del) {
      change->action = KeyChange::Action::kDelete;
    } else {
      change->action = KeyChange::Action::kWrite;
      change->value.assign(c.args[2]);
      change->pttl_ms = 0;
    }
  });
  if (!ok) return AppendError(c.out, kOutOfMemory);
  if (wrong_type) return AppendError(c.out, kWrongType);
  had_old ? AppendBulk(c.out, old) : AppendNull(c.out);
}
void GetSet(Call& c) { GetAnd(c, false); }
void GetDel(Call& c) { GetAnd(c, true); }

// MGET answers nil for a hash, as Redis does for any non-string.
// One batch read (Store::GetMany); a repeated key answers with its first occurrence's value.
void MGet(Call& c) {
  static thread_local std::vector<std::string> values;  // kept across calls, like Scratch()
  static thread_local std::vector<kv::Store::BatchResult> results;
  size_t n = c.args.size() - 1;
  if (values.size() < n) values.resize(n);
  results.resize(n);
  c.store().GetMany(c.args.data() + 1, n, values.data(), results.data());
  AppendArrayHeader(c.out, n);
  for (size_t i = 0; i < n; ++i) {
    size_t from = i;
    if (results[i] == kv::Store::BatchResult::kRepeat) {
      from = 0;
      while (c.args[from + 1] != c.args[i + 1]) ++from;
    }
    results[from] == kv::Store::BatchResult::kHit ? AppendBulk(c.out, values[from])
                                                   : AppendNull(c.out);
  }
  if (n > 64) std::vector<std::string>().swap(values);  // a huge MGET gives its memory back
}

// Key by key: another client may see some of the keys set before the others.
void MSet(Call& c) {
  if (c.args.size() % 2 == 0) {
    return AppendError(c.out, "ERR wrong number of arguments for 'mset' command");
  }
  for (size_t i = 1; i < c.args.size(); i += 2) {
    if (!c.store().Set(c.args[i], c.args[i + 1], 0)) return AppendError(c.out, kOutOfMemory);
  }
  AppendSimple(c.out, "OK");
}

void Append(Call& c) {
  bool wrong_type = false;
  size_t length = 0;
  bool ok = c.store().Update(c.args[1], [&](const KeyState& s, KeyChange* change) {
    if (s.live && s.type != ValueType::kString) {
      wrong_type = true;
      return;
    }
    change->action = KeyChange::Action::kWrite;
    change->value.reserve(s.value.size() + c.args[2].size());
    change->value.assign(s.value);
    change->value.append(c.args[2]);
    change->pttl_ms = -1;
    length = change->value.size();
  });
  if (wrong_type) return AppendError(c.out, kWrongType);
  if (!ok) return AppendError(c.out, kOutOfMemory);
  AppendInteger(c.out, static_cast<int64_t>(length));
}

void StrLen(Call& c) {
  std::string value;
  if (c.store().Get(c.args[1], &value)) {
    return AppendInteger(c.out, static_cast<int64_t>(value.size()));
  }
  if (IsHash(c.store(), c.args[1])) return AppendError(c.out, kWrongType);
  AppendInteger(c.out, 0);
}

void IncrementBy(Call& c, int64_t delta) {
  int64_t result = 0;
  switch (c.store().IncrBy(c.args[1], delta, &result)) {
    case kv::IncrStatus::kOk:
      return AppendInteger(c.out, result);
    case kv::IncrStatus::kNotInteger:
      return AppendError(c.out, IsHash(c.store(), c.args[1]) ? kWrongType : kNotInteger);
    case kv::IncrStatus::kOverflow:
      return AppendError(c.out, "ERR increment or decrement would overflow");
    case kv::IncrStatus::kRefused:
      return AppendError(c.out, kOutOfMemory);
  }
}

void Incr(Call& c) { IncrementBy(c, 1); }
void Decr(Call& c) { IncrementBy(c, -1); }
void IncrBy(Call& c) {
  int64_t n;
  if (!ParseInt64(c.args[2], &n)) return AppendError(c.out, kNotInteger);
  IncrementBy(c, n);
}
void DecrBy(Call& c) {
  int64_t n;
  if (!ParseInt64(c.args[2], &n)) return AppendError(c.out, kNotInteger);
  if (n == INT64_MIN) return AppendError(c.out, "ERR decrement would overflow");
  IncrementBy(c, -n);
}

}  // namespace

const CommandSpec kStringCommands[] = {
    {"get", 2, Get},        {"set", -3, Set},        {"setex", 4, SetEx},
    {"psetex", 4, PSetEx},  {"setnx", 3, SetNx},     {"getset", 3, GetSet},
    {"getdel", 2, GetDel},  {"mget", -2, MGet},      {"mset", -3, MSet},
    {"append", 3, Append},  {"strlen", 2, StrLen},   {"incr", 2, Incr},
    {"incrby", 3, IncrBy},  {"decr", 2, Decr},       {"decrby", 3, DecrBy},
    {nullptr, 0, nullptr},
};

}  // namespace ephpm::resp
