// runtime/php/kv_binding.h: the boundary rules every native function of the `ephpm` extension
// follows (docs/embedding-php.md sections 4 and 11), shared by kv_functions.cc (the ephpm_kv_*
// functions), test_hooks.cc (the ephpm_test_* hooks of the test binary) and session_handler.cc
// (the `ephpm` session save handler).
//
//  * Arguments are parsed with the normal ZPP macros (TypeError / ArgumentCountError come from
//    PHP itself). Keys are read as zend_string (length-aware, never strlen) and a key longer than
//    kMaxKeyLength throws ValueError (EPHPM_CHECK_KEY) before the store is touched.
//  * The store is called inside Guard(), a noexcept wrapper that catches every C++ exception. The
//    store holds no lock when it returns. Only after Guard() returned do we build zvals (which
//    may emalloc and so bail out); nothing with a destructor lives on the stack across those
//    Zend calls.
//  * A C++ exception becomes a PHP Error (EPHPM_READ_GUARD); on a write, std::bad_alloc is a
//    refusal and returns false (EPHPM_WRITE_GUARD).
//
// Internal to runtime/php; include after php_headers.h.
#ifndef EPHPM_RUNTIME_PHP_KV_BINDING_H_
#define EPHPM_RUNTIME_PHP_KV_BINDING_H_

#include <stdint.h>

#include <atomic>
#include <new>
#include <string_view>

#include "runtime/kv/store.h"
#include "runtime/php/php_headers.h"

namespace ephpm::php::binding {

// ephpm_kv_get's ending for a value Store::Read found stored compressed (peeked.encoding != 0):
// its stored bytes are in `buffer` when in_buffer, else read again with ReadPeeked; decodes them
// into the return value (null when corrupt), or throws like EPHPM_READ_GUARD (kv_read_encoded.cc).
void ReturnDecoded(ephpm::kv::Store* store, std::string_view key, const char* buffer,
                   bool in_buffer, const ephpm::kv::Store::Peeked& peeked, zval* return_value);

// The store behind the functions (SetKvStore()); only the PHP thread reads it.
extern ephpm::kv::Store* g_store;
// The cancel flag every Store::Wait of the PHP thread passes (CancelKvWaits() / ResetKvWaitCancel()).
extern std::atomic<bool> g_wait_cancel;

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

// The Error thrown for a Guard() code other than kGuardOk.
ZEND_COLD inline void ThrowStoreFailure(int guard) {
  if (guard == kGuardNoMemory) {
    zend_throw_error(nullptr, "%s(): out of memory while copying a value from the key-value store",
                     get_active_function_name());
  } else {
    zend_throw_error(nullptr, "%s(): internal error in the key-value store",
                     get_active_function_name());
  }
}

ZEND_COLD inline void ThrowNoStore() {
  zend_throw_error(nullptr, "%s(): the ephpm key-value store is not available",
                   get_active_function_name());
}

}  // namespace ephpm::php::binding

// Key validation shared by every keyed function: ValueError, no store access.
#define EPHPM_CHECK_KEY(arg_num, key)                                                   \
  do {                                                                                  \
    if (UNEXPECTED(ZSTR_LEN(key) > ephpm::kv::kMaxKeyLength)) {                         \
      zend_argument_value_error((arg_num), "must not be longer than 65535 bytes");      \
      RETURN_THROWS();                                                                  \
    }                                                                                   \
  } while (0)

#define EPHPM_GET_STORE(var)                        \
  ephpm::kv::Store* var = ephpm::php::binding::g_store; \
  do {                                              \
    if (UNEXPECTED(var == nullptr)) {               \
      ephpm::php::binding::ThrowNoStore();          \
      RETURN_THROWS();                              \
    }                                               \
  } while (0)

// Reads: an exception is an Error. Writes: bad_alloc is a refusal (false).
#define EPHPM_READ_GUARD(expr)                                       \
  do {                                                               \
    int _g = ephpm::php::binding::Guard([&] { expr; });              \
    if (UNEXPECTED(_g != ephpm::php::binding::kGuardOk)) {           \
      ephpm::php::binding::ThrowStoreFailure(_g);                    \
      RETURN_THROWS();                                               \
    }                                                                \
  } while (0)

#define EPHPM_WRITE_GUARD(expr)                                      \
  do {                                                               \
    int _g = ephpm::php::binding::Guard([&] { expr; });              \
    if (UNEXPECTED(_g == ephpm::php::binding::kGuardNoMemory)) {     \
      RETURN_FALSE;                                                  \
    }                                                                \
    if (UNEXPECTED(_g != ephpm::php::binding::kGuardOk)) {           \
      ephpm::php::binding::ThrowStoreFailure(_g);                    \
      RETURN_THROWS();                                               \
    }                                                                \
  } while (0)

#endif  // EPHPM_RUNTIME_PHP_KV_BINDING_H_
