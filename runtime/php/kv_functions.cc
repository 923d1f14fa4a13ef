// runtime/php/kv_functions.cc: the `ephpm` zend extension, i.e. the 17 ephpm_kv_* functions of
// shared/docs/kv-contract.md (plus opt-in ephpm_test_* hooks for our own test suites).
//
// Boundary rules (embedding-php.md sections 4 and 11), followed by every function below:
//  * Arguments are parsed with the normal ZPP macros (TypeError / ArgumentCountError come from
//    PHP itself). Keys are read as zend_string (length-aware, never strlen) and a key longer than
//    kMaxKeyLength throws ValueError via zend_argument_value_error before the store is touched.
//  * The store is called inside Guard(), a noexcept wrapper that catches every C++ exception. The
//    store holds no lock when it returns, and copies read values into a per-thread scratch
//    std::string. Only after Guard() returned do we build zvals (which may emalloc and so bail
//    out); nothing with a destructor lives on the stack across those Zend calls.
//  * Misses and refusals are silent (false / null / -2); only argument errors throw. A C++
//    exception becomes a PHP Error (std::bad_alloc on a write is a refusal: false).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/kv/store.h"
#include "runtime/php/engine.h"
#include "runtime/php/kv_module.h"
#include "runtime/php/php_headers.h"

#ifndef EPHPM_VERSION
#define EPHPM_VERSION "0.1.0"
#endif

namespace {

using ephpm::kv::kMaxKeyLength;
using ephpm::kv::Store;

Store* g_store = nullptr;
std::atomic<bool> g_wait_cancel{false};
bool g_test_hooks = false;

// Values are copied out of the store here (under the shard lock, by the store), then into a PHP
// string after the store call returned. Only the PHP thread uses it.
thread_local std::string t_scratch;
constexpr size_t kScratchKeepBytes = 1u << 20;  // shrink after reading bigger values
constexpr size_t kInlineReadBytes = 512;  // ephpm_kv_get: larger values take the one-copy path
constexpr zend_long kMaxWaitTimeoutMs = 100LL * 365 * 24 * 3600 * 1000;  // 100 years
constexpr zend_long kWaitSliceMs = 200;  // ephpm_kv_wait re-checks EG(vm_interrupt) this often

// Set by `ephpm php` (SetKvLazyStartHook): starts the sweeper the first time PHP creates an
// expiring entry or waits. Called at most once, then cleared.
void (*g_lazy_start_hook)() = nullptr;

inline void NoteExpiringUse() {
  if (UNEXPECTED(g_lazy_start_hook != nullptr)) {
    void (*hook)() = g_lazy_start_hook;
    g_lazy_start_hook = nullptr;
    hook();  // plain C++, noexcept, no Zend call
  }
}

enum GuardResult { kGuardOk = 0, kGuardNoMemory = 1, kGuardInternal = 2 };

// Runs f (which must not call into Zend) and turns any C++ exception into a code.
template <class F>
inline int Guard(F&& f) noexcept {
  try {
    f();
    return kGuardOk;
  } catch (const std::bad_alloc&) {
    return kGuardNoMemory;
  } catch (...) {
    return kGuardInternal;
  }
}

inline std::string_view View(const zend_string* s) {
  return std::string_view(ZSTR_VAL(s), ZSTR_LEN(s));
}

inline zend_long ClampToLong(uint64_t v) {
  return v > static_cast<uint64_t>(ZEND_LONG_MAX) ? ZEND_LONG_MAX : static_cast<zend_long>(v);
}

// After a big read, give the memory back instead of keeping a large buffer for the process
// lifetime. Plain C++ with no Zend call inside.
inline void TrimScratch() noexcept {
  if (t_scratch.capacity() > kScratchKeepBytes) {
    std::string().swap(t_scratch);
  }
}

ZEND_COLD void ThrowStoreFailure(int guard) {
  if (guard == kGuardNoMemory) {
    zend_throw_error(nullptr, "%s(): out of memory while copying a value from the key-value store",
                     get_active_function_name());
  } else {
    zend_throw_error(nullptr, "%s(): internal error in the key-value store",
                     get_active_function_name());
  }
}

ZEND_COLD void ThrowNoStore() {
  zend_throw_error(nullptr, "%s(): the ephpm key-value store is not available",
                   get_active_function_name());
}

}  // namespace

// Key validation shared by every keyed function: ValueError, no store access.
#define EPHPM_CHECK_KEY(arg_num, key)                                                   \
  do {                                                                                  \
    if (UNEXPECTED(ZSTR_LEN(key) > kMaxKeyLength)) {                                    \
      zend_argument_value_error((arg_num), "must not be longer than 65535 bytes");      \
      RETURN_THROWS();                                                                  \
    }                                                                                   \
  } while (0)

#define EPHPM_GET_STORE(var)        \
  Store* var = g_store;             \
  do {                              \
    if (UNEXPECTED(var == nullptr)) { \
      ThrowNoStore();               \
      RETURN_THROWS();              \
    }                               \
  } while (0)

// Reads: an exception is an Error. Writes: bad_alloc is a refusal (false).
#define EPHPM_READ_GUARD(expr)                 \
  do {                                         \
    int _g = Guard([&] { expr; });             \
    if (UNEXPECTED(_g != kGuardOk)) {          \
      ThrowStoreFailure(_g);                   \
      RETURN_THROWS();                         \
    }                                          \
  } while (0)

#define EPHPM_WRITE_GUARD(expr)                \
  do {                                         \
    int _g = Guard([&] { expr; });             \
    if (UNEXPECTED(_g == kGuardNoMemory)) {    \
      RETURN_FALSE;                            \
    }                                          \
    if (UNEXPECTED(_g != kGuardOk)) {          \
      ThrowStoreFailure(_g);                   \
      RETURN_THROWS();                         \
    }                                          \
  } while (0)

// -----------------------------------------------------------------------------------------------
// arginfo: exactly runtime/php/ephpm_kv.stub.php (a test compares Reflection with the stub)
// -----------------------------------------------------------------------------------------------

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_get, 0, 1, IS_STRING, 1)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_set, 0, 2, _IS_BOOL, 0)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, value, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, ttl, IS_LONG, 0, "0")
ZEND_END_ARG_INFO()

#define arginfo_ephpm_kv_setnx arginfo_ephpm_kv_set

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_del, 0, 1, IS_LONG, 0)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_exists, 0, 1, _IS_BOOL, 0)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_ephpm_kv_incr, 0, 1, MAY_BE_LONG | MAY_BE_FALSE)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_ephpm_kv_decr arginfo_ephpm_kv_incr

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_ephpm_kv_incr_by, 0, 2, MAY_BE_LONG | MAY_BE_FALSE)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, delta, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_expire, 0, 2, _IS_BOOL, 0)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, ttl, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_ttl, 0, 1, IS_LONG, 0)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_ephpm_kv_pttl arginfo_ephpm_kv_ttl

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_flush_all, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_ephpm_kv_wait, 0, 3, MAY_BE_ARRAY | MAY_BE_FALSE)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, last_version, IS_LONG, 0)
  ZEND_ARG_TYPE_INFO(0, timeout_ms, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_del_if_eq, 0, 2, _IS_BOOL, 0)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, token, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_mget, 0, 1, IS_ARRAY, 0)
  ZEND_ARG_TYPE_INFO(0, keys, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_mset, 0, 1, _IS_BOOL, 0)
  ZEND_ARG_TYPE_INFO(0, values, IS_ARRAY, 0)
  ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, ttl, IS_LONG, 0, "0")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_kv_stats, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

// Test hooks (registered only with EngineOptions::test_hooks).
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_set_after, 0, 3, _IS_BOOL, 0)
  ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, value, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, delay_ms, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_cancel_waits_after, 0, 1, _IS_BOOL, 0)
  ZEND_ARG_TYPE_INFO(0, delay_ms, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_void, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_int, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_set_grace, 0, 1, IS_VOID, 0)
  ZEND_ARG_TYPE_INFO(0, grace_ms, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_cxx_exception, 0, 1, IS_VOID, 0)
  ZEND_ARG_TYPE_INFO(0, kind, IS_STRING, 0)
ZEND_END_ARG_INFO()

// -----------------------------------------------------------------------------------------------
// The contract functions
// -----------------------------------------------------------------------------------------------

namespace {

// ephpm_kv_set / ephpm_kv_setnx (string $key, string $value, int $ttl = 0): bool
void StoreValue(INTERNAL_FUNCTION_PARAMETERS,
                bool (Store::*write)(std::string_view, std::string_view, int64_t)) {
  zend_string* key;
  zend_string* value;
  zend_long ttl = 0;
  ZEND_PARSE_PARAMETERS_START(2, 3)
    Z_PARAM_STR(key)
    Z_PARAM_STR(value)
    Z_PARAM_OPTIONAL
    Z_PARAM_LONG(ttl)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  bool ok = false;
  if (ttl > 0) NoteExpiringUse();
  EPHPM_WRITE_GUARD(ok = (store->*write)(View(key), View(value), ttl));
  RETURN_BOOL(ok);
}

// ephpm_kv_ttl / ephpm_kv_pttl (string $key): int
void RemainingTime(INTERNAL_FUNCTION_PARAMETERS, int64_t (Store::*read)(std::string_view)) {
  zend_string* key;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(key)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  int64_t remaining = -2;
  EPHPM_READ_GUARD(remaining = (store->*read)(View(key)));
  RETURN_LONG(remaining);
}

}  // namespace

PHP_FUNCTION(ephpm_kv_get) {
  zend_string* key;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(key)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  // Small values come back in a stack buffer (one lock); a large one is copied exactly once,
  // straight into a PHP string allocated while no store lock is held.
  char small[kInlineReadBytes];
  Store::Peeked peeked;
  Store::ReadResult read = Store::ReadResult::kMiss;
  EPHPM_READ_GUARD(read = store->Read(View(key), small, sizeof(small), &peeked));
  if (read == Store::ReadResult::kMiss) {
    RETURN_NULL();
  }
  if (read == Store::ReadResult::kCopied) {
    RETURN_STRINGL_FAST(small, peeked.size);
  }
  zend_string* out = zend_string_alloc(peeked.size, 0);
  bool copied = false;
  if (Guard([&] { copied = store->ReadPeeked(peeked, ZSTR_VAL(out)); }) == kGuardOk && copied) {
    ZSTR_VAL(out)[peeked.size] = '\0';
    RETURN_NEW_STR(out);
  }
  zend_string_efree(out);
  bool found = false;  // the shard changed between the two steps: read it again the plain way
  EPHPM_READ_GUARD(found = store->Get(View(key), &t_scratch));
  if (!found) {
    RETURN_NULL();
  }
  RETVAL_STRINGL_FAST(t_scratch.data(), t_scratch.size());
  TrimScratch();
}

PHP_FUNCTION(ephpm_kv_set) { StoreValue(INTERNAL_FUNCTION_PARAM_PASSTHRU, &Store::Set); }

PHP_FUNCTION(ephpm_kv_setnx) { StoreValue(INTERNAL_FUNCTION_PARAM_PASSTHRU, &Store::SetNx); }

PHP_FUNCTION(ephpm_kv_del) {
  zend_string* key;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(key)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  int removed = 0;
  EPHPM_READ_GUARD(removed = store->Del(View(key)));
  RETURN_LONG(removed);
}

PHP_FUNCTION(ephpm_kv_exists) {
  zend_string* key;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(key)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  bool live = false;
  EPHPM_READ_GUARD(live = store->Exists(View(key)));
  RETURN_BOOL(live);
}

namespace {
// Shared body of incr/decr/incr_by once the arguments are parsed.
void IncrBy(zend_string* key, zend_long delta, zval* return_value) {
  Store* store = g_store;
  if (UNEXPECTED(store == nullptr)) {
    ThrowNoStore();
    return;
  }
  int64_t result = 0;
  ephpm::kv::IncrStatus status = ephpm::kv::IncrStatus::kRefused;
  int g = Guard([&] { status = store->IncrBy(View(key), delta, &result); });
  if (UNEXPECTED(g == kGuardInternal)) {
    ThrowStoreFailure(g);
    return;
  }
  if (g != kGuardOk || status != ephpm::kv::IncrStatus::kOk) {
    RETURN_FALSE;
  }
  RETURN_LONG(result);
}
}  // namespace

PHP_FUNCTION(ephpm_kv_incr) {
  zend_string* key;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(key)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  IncrBy(key, 1, return_value);
}

PHP_FUNCTION(ephpm_kv_decr) {
  zend_string* key;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(key)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  IncrBy(key, -1, return_value);
}

PHP_FUNCTION(ephpm_kv_incr_by) {
  zend_string* key;
  zend_long delta;
  ZEND_PARSE_PARAMETERS_START(2, 2)
    Z_PARAM_STR(key)
    Z_PARAM_LONG(delta)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  IncrBy(key, delta, return_value);
}

PHP_FUNCTION(ephpm_kv_expire) {
  zend_string* key;
  zend_long ttl;
  ZEND_PARSE_PARAMETERS_START(2, 2)
    Z_PARAM_STR(key)
    Z_PARAM_LONG(ttl)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  bool ok = false;
  if (ttl > 0) NoteExpiringUse();
  EPHPM_WRITE_GUARD(ok = store->Expire(View(key), ttl));
  RETURN_BOOL(ok);
}

PHP_FUNCTION(ephpm_kv_ttl) { RemainingTime(INTERNAL_FUNCTION_PARAM_PASSTHRU, &Store::Ttl); }

PHP_FUNCTION(ephpm_kv_pttl) { RemainingTime(INTERNAL_FUNCTION_PARAM_PASSTHRU, &Store::Pttl); }

PHP_FUNCTION(ephpm_kv_flush_all) {
  ZEND_PARSE_PARAMETERS_NONE();
  EPHPM_GET_STORE(store);
  EPHPM_READ_GUARD(store->FlushAll());
  RETURN_TRUE;
}

PHP_FUNCTION(ephpm_kv_wait) {
  zend_string* key;
  zend_long last_version;
  zend_long timeout_ms;
  ZEND_PARSE_PARAMETERS_START(3, 3)
    Z_PARAM_STR(key)
    Z_PARAM_LONG(last_version)
    Z_PARAM_LONG(timeout_ms)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  if (last_version < 0) last_version = 0;
  if (timeout_ms < 0) timeout_ms = 0;
  // A huge timeout means "until woken, cancelled or the request deadline": clamp it so that no
  // now + timeout arithmetic below can overflow (PHP_INT_MAX would otherwise wrap to "expired").
  if (timeout_ms > kMaxWaitTimeoutMs) timeout_ms = kMaxWaitTimeoutMs;
  // Wait in slices so that a pending PHP interrupt also ends the wait (with false): a signal
  // handler registered with pcntl_signal() (a worker's SIGTERM), or a max_execution_time
  // timeout. Both set EG(vm_interrupt); their handlers then run as soon as we return. The cancel
  // flag (watchdog, shutdown) is checked inside Store::Wait at least every 50 ms. Re-waiting
  // with the same last_version is exact: a change between slices returns at once.
  NoteExpiringUse();  // the sweeper also frees idle watch slots
  ephpm::kv::WaitResult result;
  zend_long remaining = timeout_ms;
  for (;;) {
    zend_long slice = remaining < kWaitSliceMs ? remaining : kWaitSliceMs;
    EPHPM_READ_GUARD(result = store->Wait(View(key), static_cast<uint64_t>(last_version), slice,
                                          &g_wait_cancel, &t_scratch));
    if (result.status != ephpm::kv::WaitResult::Status::kTimeout) break;
    remaining -= slice;
    if (remaining <= 0 || zend_atomic_bool_load_ex(&EG(vm_interrupt))) break;
  }
  if (result.status != ephpm::kv::WaitResult::Status::kChanged) {
    RETURN_FALSE;
  }
  array_init_size(return_value, 2);
  add_assoc_long_ex(return_value, "version", sizeof("version") - 1, ClampToLong(result.version));
  if (result.has_value) {
    zval value;
    ZVAL_STRINGL_FAST(&value, t_scratch.data(), t_scratch.size());
    add_assoc_zval_ex(return_value, "value", sizeof("value") - 1, &value);
    TrimScratch();
  } else {
    add_assoc_null_ex(return_value, "value", sizeof("value") - 1);
  }
}

PHP_FUNCTION(ephpm_kv_del_if_eq) {
  zend_string* key;
  zend_string* token;
  ZEND_PARSE_PARAMETERS_START(2, 2)
    Z_PARAM_STR(key)
    Z_PARAM_STR(token)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  bool ok = false;
  EPHPM_READ_GUARD(ok = store->DelIfEq(View(key), View(token)));
  RETURN_BOOL(ok);
}

namespace {
// The key text of an array element / array key: a string as is, an int as its decimal text
// (written into buf, which must hold MAX_LENGTH_OF_LONG + 1 bytes).
inline std::string_view IntKeyText(zend_long n, char* buf, size_t buf_size) {
  char* end = buf + buf_size - 1;
  char* start = zend_print_long_to_buf(end, n);
  return std::string_view(start, static_cast<size_t>(end - start));
}
}  // namespace

PHP_FUNCTION(ephpm_kv_mget) {
  HashTable* keys;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_ARRAY_HT(keys)
  ZEND_PARSE_PARAMETERS_END();

  // Validate every element before the first lookup.
  zval* elem;
  ZEND_HASH_FOREACH_VAL(keys, elem) {
    ZVAL_DEREF(elem);
    if (Z_TYPE_P(elem) == IS_STRING) {
      if (UNEXPECTED(Z_STRLEN_P(elem) > kMaxKeyLength)) {
        zend_argument_value_error(1, "must not contain keys longer than 65535 bytes");
        RETURN_THROWS();
      }
    } else if (Z_TYPE_P(elem) != IS_LONG) {
      zend_argument_type_error(1, "must contain only strings and integers, %s given",
                               zend_zval_type_name(elem));
      RETURN_THROWS();
    }
  } ZEND_HASH_FOREACH_END();
  EPHPM_GET_STORE(store);

  uint32_t count = zend_hash_num_elements(keys);
  array_init_size(return_value, count);
  if (count == 0) return;
  HashTable* result = Z_ARRVAL_P(return_value);
  // Duplicates are looked up (and counted as a hit or miss) once. A hit is found again in the
  // result itself; misses go to a small table created only when a miss happens. Both use PHP's
  // symtable rules, under which a numeric string and its int are the same key, exactly as they
  // are the same bytes for the store.
  HashTable* missed = nullptr;
  char buf[MAX_LENGTH_OF_LONG + 1];
  ZEND_HASH_FOREACH_VAL(keys, elem) {
    ZVAL_DEREF(elem);
    zend_string* skey = nullptr;
    zend_long ikey = 0;
    std::string_view k;
    if (Z_TYPE_P(elem) == IS_STRING) {
      skey = Z_STR_P(elem);
      k = View(skey);
      if (zend_symtable_exists(result, skey) || (missed != nullptr && zend_symtable_exists(missed, skey))) {
        continue;
      }
    } else {
      ikey = Z_LVAL_P(elem);
      k = IntKeyText(ikey, buf, sizeof(buf));
      if (zend_hash_index_exists(result, ikey) ||
          (missed != nullptr && zend_hash_index_exists(missed, ikey))) {
        continue;
      }
    }
    bool found = false;
    int g = Guard([&] { found = store->Get(k, &t_scratch); });
    if (UNEXPECTED(g != kGuardOk)) {
      if (missed != nullptr) {
        zend_hash_destroy(missed);
        FREE_HASHTABLE(missed);
      }
      ThrowStoreFailure(g);
      RETURN_THROWS();
    }
    if (found) {
      zval value;
      ZVAL_STRINGL_FAST(&value, t_scratch.data(), t_scratch.size());
      // The input zend_string becomes the result key (no copy; its hash is reused). Symtable
      // semantics: "42" becomes int key 42, like in any PHP array.
      if (skey != nullptr) {
        zend_symtable_update(result, skey, &value);
      } else {
        zend_hash_index_update(result, ikey, &value);
      }
    } else {
      if (missed == nullptr) {
        ALLOC_HASHTABLE(missed);
        zend_hash_init(missed, 8, nullptr, nullptr, 0);
      }
      zval null_value;
      ZVAL_NULL(&null_value);
      if (skey != nullptr) {
        zend_symtable_update(missed, skey, &null_value);
      } else {
        zend_hash_index_update(missed, ikey, &null_value);
      }
    }
  } ZEND_HASH_FOREACH_END();
  if (missed != nullptr) {
    zend_hash_destroy(missed);
    FREE_HASHTABLE(missed);
  }
  TrimScratch();
}

PHP_FUNCTION(ephpm_kv_mset) {
  HashTable* values;
  zend_long ttl = 0;
  ZEND_PARSE_PARAMETERS_START(1, 2)
    Z_PARAM_ARRAY_HT(values)
    Z_PARAM_OPTIONAL
    Z_PARAM_LONG(ttl)
  ZEND_PARSE_PARAMETERS_END();

  uint32_t count = zend_hash_num_elements(values);
  if (count == 0) {
    RETURN_TRUE;
  }
  // Pass 1: validate every key and convert every value (like a `string` parameter) before the
  // first write; on any error nothing is written.
  zval* converted = static_cast<zval*>(safe_emalloc(count, sizeof(zval), 0));
  uint32_t n = 0;
  bool failed = false;
  zend_string* skey;
  zend_ulong ikey;
  zval* val;
  ZEND_HASH_FOREACH_KEY_VAL(values, ikey, skey, val) {
    (void)ikey;
    if (skey != nullptr && UNEXPECTED(ZSTR_LEN(skey) > kMaxKeyLength)) {
      zend_argument_value_error(1, "must not contain keys longer than 65535 bytes");
      failed = true;
      break;
    }
    ZVAL_DEREF(val);
    if (EXPECTED(Z_TYPE_P(val) == IS_STRING)) {
      ZVAL_COPY(&converted[n], val);
      n++;
      continue;
    }
    zval tmp;
    ZVAL_COPY(&tmp, val);
    zend_string* str;
    if (Z_TYPE(tmp) == IS_ARRAY || !zend_parse_arg_str_slow(&tmp, &str, 1)) {
      const char* type_name = zend_zval_type_name(val);
      zval_ptr_dtor(&tmp);
      if (!EG(exception)) {
        zend_argument_type_error(1, "must contain only values of type string, %s given", type_name);
      }
      failed = true;
      break;
    }
    // zend_parse_arg_str_slow converted tmp in place; tmp now owns the string.
    ZVAL_COPY_VALUE(&converted[n], &tmp);
    n++;
  } ZEND_HASH_FOREACH_END();
  if (!failed && EG(exception)) failed = true;  // e.g. a deprecation turned into an exception
  if (failed) {
    for (uint32_t i = 0; i < n; i++) zval_ptr_dtor(&converted[i]);
    efree(converted);
    RETURN_THROWS();
  }

  Store* store = g_store;
  if (UNEXPECTED(store == nullptr)) {
    for (uint32_t i = 0; i < n; i++) zval_ptr_dtor(&converted[i]);
    efree(converted);
    ThrowNoStore();
    RETURN_THROWS();
  }
  if (ttl > 0) NoteExpiringUse();
  // Pass 2: each pair exactly like set(); not atomic across keys.
  bool all_ok = true;
  int guard_failure = kGuardOk;
  char buf[MAX_LENGTH_OF_LONG + 1];
  uint32_t i = 0;
  ZEND_HASH_FOREACH_KEY(values, ikey, skey) {
    std::string_view k = skey != nullptr ? View(skey)
                                         : IntKeyText(static_cast<zend_long>(ikey), buf, sizeof(buf));
    std::string_view v(Z_STRVAL(converted[i]), Z_STRLEN(converted[i]));
    bool ok = false;
    int g = Guard([&] { ok = store->Set(k, v, ttl); });
    if (g == kGuardInternal) {
      guard_failure = g;
      break;
    }
    if (g != kGuardOk || !ok) all_ok = false;
    i++;
  } ZEND_HASH_FOREACH_END();
  for (uint32_t j = 0; j < n; j++) zval_ptr_dtor(&converted[j]);
  efree(converted);
  if (guard_failure != kGuardOk) {
    ThrowStoreFailure(guard_failure);
    RETURN_THROWS();
  }
  RETURN_BOOL(all_ok);
}

PHP_FUNCTION(ephpm_kv_stats) {
  ZEND_PARSE_PARAMETERS_NONE();
  EPHPM_GET_STORE(store);
  ephpm::kv::Stats st;
  EPHPM_READ_GUARD(st = store->GetStats());
  array_init_size(return_value, 8);
  add_assoc_long_ex(return_value, "keys", sizeof("keys") - 1, ClampToLong(st.keys));
  add_assoc_long_ex(return_value, "used_memory", sizeof("used_memory") - 1,
                    ClampToLong(st.used_memory));
  add_assoc_long_ex(return_value, "memory_limit", sizeof("memory_limit") - 1,
                    ClampToLong(st.memory_limit));
  add_assoc_long_ex(return_value, "hits", sizeof("hits") - 1, ClampToLong(st.hits));
  add_assoc_long_ex(return_value, "misses", sizeof("misses") - 1, ClampToLong(st.misses));
  add_assoc_long_ex(return_value, "evictions", sizeof("evictions") - 1, ClampToLong(st.evictions));
  add_assoc_long_ex(return_value, "expired", sizeof("expired") - 1, ClampToLong(st.expired));
  add_assoc_long_ex(return_value, "discarded_shards", sizeof("discarded_shards") - 1,
                    ClampToLong(st.discarded_shards));
}

// -----------------------------------------------------------------------------------------------
// Test hooks (EPHPM_TEST_HOOKS=1 under `ephpm php`). Helper threads never touch Zend.
// -----------------------------------------------------------------------------------------------

namespace {
std::mutex g_hook_mu;
std::vector<std::thread>* g_hook_threads = nullptr;  // guarded by g_hook_mu; leaked on purpose
pid_t g_hook_pid = 0;  // process that started the threads (a pcntl_fork child must not join them)

// Starts fn on a helper thread with every signal blocked. Plain C++; no Zend call inside.
template <class F>
bool StartHookThread(F fn) noexcept {
  try {
    sigset_t old;
    ephpm::php::BlockSignalsForHelperThread(&old);
    std::thread t;
    try {
      t = std::thread(std::move(fn));
    } catch (...) {
      ephpm::php::RestoreSignalMask(&old);
      return false;
    }
    ephpm::php::RestoreSignalMask(&old);
    std::lock_guard<std::mutex> lock(g_hook_mu);
    if (g_hook_threads == nullptr) g_hook_threads = new std::vector<std::thread>();
    g_hook_pid = getpid();
    g_hook_threads->push_back(std::move(t));
    return true;
  } catch (...) {
    return false;
  }
}

bool StartDelayedSet(std::string_view key, std::string_view value, int64_t delay_ms) noexcept {
  try {
    Store* store = g_store;
    return StartHookThread([store, k = std::string(key), v = std::string(value), delay_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      store->Set(k, v, 0);
    });
  } catch (...) {
    return false;
  }
}

bool StartDelayedCancel(int64_t delay_ms) noexcept {
  return StartHookThread([delay_ms] {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ephpm::php::CancelKvWaits();
  });
}

[[noreturn]] void ThrowCxx(bool bad_alloc) {
  if (bad_alloc) throw std::bad_alloc();
  throw std::runtime_error("test");
}
}  // namespace

PHP_FUNCTION(ephpm_test_set_after) {
  zend_string* key;
  zend_string* value;
  zend_long delay_ms;
  ZEND_PARSE_PARAMETERS_START(3, 3)
    Z_PARAM_STR(key)
    Z_PARAM_STR(value)
    Z_PARAM_LONG(delay_ms)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_CHECK_KEY(1, key);
  EPHPM_GET_STORE(store);
  (void)store;
  RETURN_BOOL(StartDelayedSet(View(key), View(value), delay_ms < 0 ? 0 : delay_ms));
}

PHP_FUNCTION(ephpm_test_cancel_waits_after) {
  zend_long delay_ms;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_LONG(delay_ms)
  ZEND_PARSE_PARAMETERS_END();
  RETURN_BOOL(StartDelayedCancel(delay_ms < 0 ? 0 : delay_ms));
}

PHP_FUNCTION(ephpm_test_reset_wait_cancel) {
  ZEND_PARSE_PARAMETERS_NONE();
  ephpm::php::ResetKvWaitCancel();
}

PHP_FUNCTION(ephpm_test_watch_slot_count) {
  ZEND_PARSE_PARAMETERS_NONE();
  EPHPM_GET_STORE(store);
  uint64_t n = 0;
  EPHPM_READ_GUARD(n = store->WatchSlotCount());
  RETURN_LONG(ClampToLong(n));
}

PHP_FUNCTION(ephpm_test_set_watch_slot_grace_ms) {
  zend_long grace_ms;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_LONG(grace_ms)
  ZEND_PARSE_PARAMETERS_END();
  EPHPM_GET_STORE(store);
  EPHPM_READ_GUARD(store->SetWatchSlotGraceMsForTesting(grace_ms));
}

PHP_FUNCTION(ephpm_test_expire_cycle) {
  ZEND_PARSE_PARAMETERS_NONE();
  EPHPM_GET_STORE(store);
  size_t reaped = 0;
  EPHPM_READ_GUARD(reaped = store->ActiveExpireCycle());
  RETURN_LONG(ClampToLong(reaped));
}

// Proves the boundary: a C++ exception thrown below a native function becomes a PHP Error.
PHP_FUNCTION(ephpm_test_cxx_exception) {
  zend_string* kind;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(kind)
  ZEND_PARSE_PARAMETERS_END();
  bool bad_alloc = zend_string_equals_literal(kind, "bad_alloc");
  EPHPM_READ_GUARD(ThrowCxx(bad_alloc));
}

// -----------------------------------------------------------------------------------------------
// Module entry
// -----------------------------------------------------------------------------------------------

#define EPHPM_KV_FUNCTIONS                                                     \
  PHP_FE(ephpm_kv_get, arginfo_ephpm_kv_get)                                   \
  PHP_FE(ephpm_kv_set, arginfo_ephpm_kv_set)                                   \
  PHP_FE(ephpm_kv_setnx, arginfo_ephpm_kv_setnx)                               \
  PHP_FE(ephpm_kv_del, arginfo_ephpm_kv_del)                                   \
  PHP_FE(ephpm_kv_exists, arginfo_ephpm_kv_exists)                             \
  PHP_FE(ephpm_kv_incr, arginfo_ephpm_kv_incr)                                 \
  PHP_FE(ephpm_kv_decr, arginfo_ephpm_kv_decr)                                 \
  PHP_FE(ephpm_kv_incr_by, arginfo_ephpm_kv_incr_by)                           \
  PHP_FE(ephpm_kv_expire, arginfo_ephpm_kv_expire)                             \
  PHP_FE(ephpm_kv_ttl, arginfo_ephpm_kv_ttl)                                   \
  PHP_FE(ephpm_kv_pttl, arginfo_ephpm_kv_pttl)                                 \
  PHP_FE(ephpm_kv_flush_all, arginfo_ephpm_kv_flush_all)                       \
  PHP_FE(ephpm_kv_wait, arginfo_ephpm_kv_wait)                                 \
  PHP_FE(ephpm_kv_del_if_eq, arginfo_ephpm_kv_del_if_eq)                       \
  PHP_FE(ephpm_kv_mget, arginfo_ephpm_kv_mget)                                 \
  PHP_FE(ephpm_kv_mset, arginfo_ephpm_kv_mset)                                 \
  PHP_FE(ephpm_kv_stats, arginfo_ephpm_kv_stats)

static const zend_function_entry ephpm_functions[] = {
  EPHPM_KV_FUNCTIONS
  PHP_FE_END
};

static const zend_function_entry ephpm_functions_with_test_hooks[] = {
  EPHPM_KV_FUNCTIONS
  PHP_FE(ephpm_test_set_after, arginfo_ephpm_test_set_after)
  PHP_FE(ephpm_test_cancel_waits_after, arginfo_ephpm_test_cancel_waits_after)
  PHP_FE(ephpm_test_reset_wait_cancel, arginfo_ephpm_test_void)
  PHP_FE(ephpm_test_watch_slot_count, arginfo_ephpm_test_int)
  PHP_FE(ephpm_test_set_watch_slot_grace_ms, arginfo_ephpm_test_set_grace)
  PHP_FE(ephpm_test_expire_cycle, arginfo_ephpm_test_int)
  PHP_FE(ephpm_test_cxx_exception, arginfo_ephpm_test_cxx_exception)
  PHP_FE_END
};

static PHP_MINFO_FUNCTION(ephpm) {
  // Format everything first: php_info_* calls may bail out.
  char limit[48] = "unknown";
  char shards[24] = "unknown";
  const char* policy = "unknown";
  const char* arena = "none";
  if (g_store != nullptr) {
    const ephpm::kv::Options& o = g_store->options();
    if (o.memory_limit == 0) {
      snprintf(limit, sizeof(limit), "unlimited");
    } else {
      snprintf(limit, sizeof(limit), "%llu bytes", static_cast<unsigned long long>(o.memory_limit));
    }
    snprintf(shards, sizeof(shards), "%u", o.shards);
    policy = ephpm::kv::EvictionPolicyName(o.eviction_policy);
    arena = g_store->is_named() ? g_store->name().c_str() : "anonymous (this process and its forks)";
  }
  php_info_print_table_start();
  php_info_print_table_header(2, "ephpm support", "enabled");
  php_info_print_table_row(2, "Version", EPHPM_VERSION);
  php_info_print_table_row(2, "KV arena", arena);
  php_info_print_table_row(2, "KV memory_limit", limit);
  php_info_print_table_row(2, "KV eviction_policy", policy);
  php_info_print_table_row(2, "KV shards", shards);
  php_info_print_table_end();
}

static zend_module_entry ephpm_module_entry = {
  STANDARD_MODULE_HEADER,
  "ephpm",
  ephpm_functions,
  nullptr,  // MINIT
  nullptr,  // MSHUTDOWN
  nullptr,  // RINIT
  nullptr,  // RSHUTDOWN
  PHP_MINFO(ephpm),
  EPHPM_VERSION,
  STANDARD_MODULE_PROPERTIES
};

namespace ephpm::php {

zend_module_entry* EphpmModuleEntry() {
  ephpm_module_entry.functions = g_test_hooks ? ephpm_functions_with_test_hooks : ephpm_functions;
  return &ephpm_module_entry;
}

void SetTestHooksEnabled(bool enabled) { g_test_hooks = enabled; }

void StopTestHookThreads() {
  std::vector<std::thread>* threads = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_hook_mu);
    threads = g_hook_threads;
    g_hook_threads = nullptr;
  }
  if (threads == nullptr) return;
  if (g_hook_pid != getpid()) {
    // Forked child: those threads live only in the parent; joining would block forever.
    for (std::thread& t : *threads) t.detach();
    return;
  }
  for (std::thread& t : *threads) {
    if (t.joinable()) t.join();
  }
  delete threads;
}

void SetKvStore(ephpm::kv::Store* store) { g_store = store; }
void SetKvLazyStartHook(void (*hook)()) { g_lazy_start_hook = hook; }
ephpm::kv::Store* GetKvStore() { return g_store; }

void CancelKvWaits() { g_wait_cancel.store(true, std::memory_order_release); }
void ResetKvWaitCancel() { g_wait_cancel.store(false, std::memory_order_release); }
std::atomic<bool>* KvWaitCancelFlag() { return &g_wait_cancel; }

}  // namespace ephpm::php
