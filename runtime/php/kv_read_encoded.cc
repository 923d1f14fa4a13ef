// runtime/php/kv_read_encoded.cc: the binding's side of value compression (docs/kv-contract.md
// section 4.9) — ephpm_kv_get's path for a value stored compressed — and ephpm_kv_stats, whose
// counters include what compression saves.
//
// Store::Read copies a value as stored, under the shard lock. A compressed one is decoded here,
// with no lock held, straight into the PHP string it is returned in: its original size is known
// from its header, so the string is allocated once (that allocation may bail out: nothing with a
// destructor is alive across it, docs/embedding-php.md section 11).
#include <string>
#include <string_view>

#include "runtime/kv/store.h"
#include "runtime/php/kv_binding.h"
#include "runtime/php/php_headers.h"


namespace ephpm::php::binding {
namespace {

// The stored bytes of a compressed value too large for ephpm_kv_get's stack buffer. Only the PHP
// thread uses it; shrunk after a large one.
thread_local std::string t_stored;
constexpr size_t kStoredKeepBytes = 1u << 20;

void TrimStored() noexcept {
  if (t_stored.capacity() > kStoredKeepBytes) std::string().swap(t_stored);
}

}  // namespace

void ReturnDecoded(kv::Store* store, std::string_view key, const char* buffer, bool in_buffer,
                   const kv::Store::Peeked& peeked, zval* return_value) {
  const char* stored = buffer;
  if (!in_buffer) {
    bool copied = false;
    int g = Guard([&] {
      t_stored.resize(peeked.size);
      copied = store->ReadPeeked(peeked, t_stored.data());
    });
    if (g != kGuardOk) {
      ThrowStoreFailure(g);
      return;
    }
    if (!copied) {  // the shard changed between the two steps: Get reads and decodes it anew
      bool found = false;
      g = Guard([&] { found = store->Get(key, &t_stored); });
      if (g != kGuardOk) {
        ThrowStoreFailure(g);
      } else if (found) {
        RETVAL_STRINGL_FAST(t_stored.data(), t_stored.size());
      } else {
        RETVAL_NULL();
      }
      TrimStored();
      return;
    }
    stored = t_stored.data();
  }
  std::string_view bytes(stored, peeked.size);
  size_t size = 0;
  bool ok = false;
  Guard([&] { ok = store->DecodedSize(peeked.encoding, bytes, &size); });
  if (!ok) {
    RETURN_NULL();  // corrupt: a miss (counted in decode_errors)
  }
  zend_string* out = zend_string_alloc(size, 0);
  Guard([&] { ok = store->DecodeInto(peeked.encoding, bytes, ZSTR_VAL(out), size); });
  TrimStored();
  if (!ok) {
    zend_string_efree(out);
    RETURN_NULL();
  }
  ZSTR_VAL(out)[size] = '\0';
  RETURN_NEW_STR(out);
}

}  // namespace ephpm::php::binding

PHP_FUNCTION(ephpm_kv_stats) {
  using ephpm::php::binding::ClampToLong;
  ZEND_PARSE_PARAMETERS_NONE();
  EPHPM_GET_STORE(store);
  ephpm::kv::Stats st;
  EPHPM_READ_GUARD(st = store->GetStats());
  array_init_size(return_value, 10);
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
  add_assoc_long_ex(return_value, "bytes_saved", sizeof("bytes_saved") - 1,
                    ClampToLong(st.bytes_saved));
  add_assoc_long_ex(return_value, "decode_errors", sizeof("decode_errors") - 1,
                    ClampToLong(st.decode_errors));
}
