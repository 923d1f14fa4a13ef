// runtime/php/kv_functions.cc: the `ephpm` zend extension, i.e. the 17 ephpm_kv_* functions of
// docs/kv-contract.md (ephpm_kv_stats and the decoding of compressed values are in
// kv_read_encoded.cc). Their signatures live in ephpm_kv.stub.php; ephpm_kv_arginfo.h is
// generated from it (scripts/gen-arginfo.sh, `make arginfo`).
//
// Every function follows the boundary rules of kv_binding.h. The store copies read values into a
// per-thread scratch std::string (or a stack buffer for small ones) before we build zvals.
// Misses and refusals are silent (false / null / -2); only argument errors throw.
#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/kv/compression.h"
#include "runtime/kv/store.h"
#include "runtime/php/engine.h"
#include "runtime/php/kv_binding.h"
#include "runtime/php/kv_module.h"
#include "runtime/php/php_headers.h"
#include "runtime/version.h"

#include "runtime/php/ephpm_kv_arginfo.h"

namespace ephpm::php::binding {
ephpm::kv::Store* g_store = nullptr;
std::atomic<bool> g_wait_cancel{false};
}  // namespace ephpm::php::binding

namespace {

using ephpm::kv::kMaxKeyLength;
using ephpm::kv::Store;
using ephpm::php::binding::ClampToLong;
using ephpm::php::binding::g_store;
using ephpm::php::binding::g_wait_cancel;
using ephpm::php::binding::Guard;
using ephpm::php::binding::kGuardInternal;
using ephpm::php::binding::kGuardNoMemory;
using ephpm::php::binding::kGuardOk;
using ephpm::php::binding::ThrowNoStore;
using ephpm::php::binding::ThrowStoreFailure;
using ephpm::php::binding::View;

const ephpm::php::TestHooks* g_test_hooks = nullptr;

// Values are copied out of the store here (by the store, which takes no lock to read unless the
// shard is busy), then into a PHP string after the store call returned. Only the PHP thread uses it.
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

// ephpm_kv_mget's batch: the keys' bytes (ints as text), then the store's answers.
thread_local std::vector<std::string_view> t_batch_keys;
thread_local std::string t_int_keys;
thread_local std::vector<std::string> t_batch_values;
thread_local std::vector<ephpm::kv::Store::BatchResult> t_batch_results;
constexpr size_t kBatchKeepValues = 1024;

// After a big read, give the memory back instead of keeping a large buffer for the process
// lifetime. Plain C++ with no Zend call inside.
inline void TrimScratch() noexcept {
  if (t_scratch.capacity() > kScratchKeepBytes) {
    std::string().swap(t_scratch);
  }
}

// The same for a big batch: the values of at most kBatchKeepValues keys are kept, their buffers
// trimmed like t_scratch.
inline void TrimBatch() noexcept {
  if (t_batch_values.size() > kBatchKeepValues) {
    std::vector<std::string>().swap(t_batch_values);
    std::vector<std::string_view>().swap(t_batch_keys);
    std::vector<ephpm::kv::Store::BatchResult>().swap(t_batch_results);
    std::string().swap(t_int_keys);
    return;
  }
  for (std::string& v : t_batch_values) {
    if (v.capacity() > kScratchKeepBytes) std::string().swap(v);
  }
}

}  // namespace

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
  // Small values come back in a stack buffer (one lookup); a large one is copied exactly once,
  // straight into a PHP string allocated while no store lock is held.
  char small[kInlineReadBytes];
  Store::Peeked peeked;
  Store::ReadResult read = Store::ReadResult::kMiss;
  EPHPM_READ_GUARD(read = store->Read(View(key), small, sizeof(small), &peeked));
  if (read == Store::ReadResult::kMiss) {
    RETURN_NULL();
  }
  if (UNEXPECTED(peeked.encoding != 0)) {  // stored compressed (kv_read_encoded.cc)
    ephpm::php::binding::ReturnDecoded(store, View(key), small,
                                       read == Store::ReadResult::kCopied, peeked, return_value);
    return;
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
  // One batch read (Store::GetMany), which also looks a repeated key up (and counts it) once.
  // Under PHP's symtable rules a numeric string and its int are one array key exactly when they
  // are the same bytes for the store, so the store's repeats are the result's duplicates.
  int g = Guard([&] {
    t_batch_keys.clear();
    t_int_keys.clear();
    t_int_keys.reserve(size_t{count} * (MAX_LENGTH_OF_LONG + 1));  // views into it stay valid
    ZEND_HASH_FOREACH_VAL(keys, elem) {
      ZVAL_DEREF(elem);
      if (Z_TYPE_P(elem) == IS_STRING) {
        t_batch_keys.push_back(View(Z_STR_P(elem)));
      } else {
        char buf[MAX_LENGTH_OF_LONG + 1];
        std::string_view text = IntKeyText(Z_LVAL_P(elem), buf, sizeof(buf));
        size_t at = t_int_keys.size();
        t_int_keys.append(text);
        t_batch_keys.push_back(std::string_view(t_int_keys).substr(at, text.size()));
      }
    } ZEND_HASH_FOREACH_END();
    if (t_batch_values.size() < count) t_batch_values.resize(count);
    t_batch_results.resize(count);
    store->GetMany(t_batch_keys.data(), count, t_batch_values.data(), t_batch_results.data());
  });
  if (UNEXPECTED(g != kGuardOk)) {
    ThrowStoreFailure(g);
    RETURN_THROWS();
  }
  HashTable* result = Z_ARRVAL_P(return_value);
  size_t i = 0;
  ZEND_HASH_FOREACH_VAL(keys, elem) {
    ZVAL_DEREF(elem);
    if (t_batch_results[i] == Store::BatchResult::kHit) {
      zval value;
      const std::string& bytes = t_batch_values[i];
      ZVAL_STRINGL_FAST(&value, bytes.data(), bytes.size());
      // The input zend_string becomes the result key (no copy; its hash is reused). Symtable
      // semantics: "42" becomes int key 42, like in any PHP array. Every hit is a new key (the
      // store marked the repeats), so no lookup precedes the insert.
      zend_ulong index;
      if (Z_TYPE_P(elem) != IS_STRING) {
        zend_hash_index_add_new(result, Z_LVAL_P(elem), &value);
      } else if (ZEND_HANDLE_NUMERIC_STR(Z_STRVAL_P(elem), Z_STRLEN_P(elem), index)) {
        zend_hash_index_add_new(result, index, &value);
      } else {
        zend_hash_add_new(result, Z_STR_P(elem), &value);
      }
    }
    ++i;
  } ZEND_HASH_FOREACH_END();
  TrimBatch();
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

// -----------------------------------------------------------------------------------------------
// Module entry
// -----------------------------------------------------------------------------------------------

// Worker mode's functions and class (worker_functions.cc) and the ephpm_test_* hooks of the test
// binary (test_hooks.cc) join the module's own functions here, so get_extension_funcs('ephpm')
// lists them too.
static PHP_MINIT_FUNCTION(ephpm) {
  ephpm::php::RegisterWorkerApi(type);
  if (g_test_hooks == nullptr) return SUCCESS;
  return zend_register_functions(nullptr, g_test_hooks->functions, nullptr, type);
}

static PHP_MINFO_FUNCTION(ephpm) {
  // Format everything first: php_info_* calls may bail out.
  char limit[48] = "unknown";
  char shards[24] = "unknown";
  const char* policy = "unknown";
  const char* arena = "none";
  char compression[48] = "unknown";
  if (g_store != nullptr) {
    const ephpm::kv::Options& o = g_store->options();
    snprintf(compression, sizeof(compression), "%s, level %d, from %llu bytes",
             ephpm::kv::CompressionName(o.compression), o.compression_level,
             static_cast<unsigned long long>(o.compression_min_size));
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
  php_info_print_table_row(2, "KV compression", compression);
  php_info_print_table_end();
}

static zend_module_entry ephpm_module_entry = {
  STANDARD_MODULE_HEADER,
  "ephpm",
  ext_functions,  // ephpm_kv_arginfo.h
  PHP_MINIT(ephpm),
  nullptr,  // MSHUTDOWN
  nullptr,  // RINIT
  nullptr,  // RSHUTDOWN
  PHP_MINFO(ephpm),
  EPHPM_VERSION,
  STANDARD_MODULE_PROPERTIES
};

namespace ephpm::php {

zend_module_entry* EphpmModuleEntry() { return &ephpm_module_entry; }

void InstallTestHooks(const TestHooks* hooks) { g_test_hooks = hooks; }

void StopTestHookThreads() {
  if (g_test_hooks != nullptr) g_test_hooks->stop_threads();
}

void SetKvStore(ephpm::kv::Store* store) { g_store = store; }
void SetKvLazyStartHook(void (*hook)()) { g_lazy_start_hook = hook; }

void CancelKvWaits() { g_wait_cancel.store(true, std::memory_order_release); }
void ResetKvWaitCancel() { g_wait_cancel.store(false, std::memory_order_release); }

}  // namespace ephpm::php
