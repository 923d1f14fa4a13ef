// runtime/php/kv_scan.cc: ephpm_kv_scan, one step of a key listing from PHP (Store::Scan,
// docs/kv-contract.md section 4.7), e.g. for a cache adapter's prune() or an admin script.
//
// The keys of a step are collected by Store::Scan into a per-thread vector (no lock is held once
// it returns), then copied into the PHP array; the vector is not on the stack because building
// the array may bail out (docs/embedding-php.md section 11), and it is shrunk after a large step.
#include <string>
#include <vector>

#include "runtime/kv/store.h"
#include "runtime/php/kv_binding.h"
#include "runtime/php/php_headers.h"

using ephpm::kv::kMaxKeyLength;
using ephpm::php::binding::View;

namespace {

// One step's bound on the keys it looks at: a step holds each shard lock for at most 64 buckets
// whatever `count` is, but its result is built in one piece of PHP memory.
constexpr zend_long kMaxScanCount = 100000;
constexpr size_t kKeepKeys = 1024;

thread_local std::vector<std::string> t_keys;

void TrimKeys() noexcept {
  if (t_keys.capacity() > kKeepKeys) {
    std::vector<std::string>().swap(t_keys);
  } else {
    t_keys.clear();
  }
}

}  // namespace

PHP_FUNCTION(ephpm_kv_scan) {
  zend_long cursor;
  zend_string* pattern = nullptr;
  zend_long count = 100;
  ZEND_PARSE_PARAMETERS_START(1, 3)
    Z_PARAM_LONG(cursor)
    Z_PARAM_OPTIONAL
    Z_PARAM_STR(pattern)
    Z_PARAM_LONG(count)
  ZEND_PARSE_PARAMETERS_END();
  if (cursor < 0) {
    zend_argument_value_error(1, "must be greater than or equal to 0");
    RETURN_THROWS();
  }
  if (pattern != nullptr && ZSTR_LEN(pattern) > kMaxKeyLength) {
    zend_argument_value_error(2, "must not be longer than 65535 bytes");
    RETURN_THROWS();
  }
  if (count < 1 || count > kMaxScanCount) {
    zend_argument_value_error(3, "must be between 1 and 100000");
    RETURN_THROWS();
  }
  EPHPM_GET_STORE(store);
  t_keys.clear();
  uint64_t next = 0;
  std::string_view match = pattern != nullptr ? View(pattern) : std::string_view();
  EPHPM_READ_GUARD(next = store->Scan(static_cast<uint64_t>(cursor),
                                      static_cast<size_t>(count), match, &t_keys));
  zval keys;
  array_init_size(&keys, static_cast<uint32_t>(t_keys.size()));
  for (const std::string& key : t_keys) add_next_index_stringl(&keys, key.data(), key.size());
  TrimKeys();
  array_init_size(return_value, 2);
  add_next_index_long(return_value, ephpm::php::binding::ClampToLong(next));
  add_next_index_zval(return_value, &keys);
}
