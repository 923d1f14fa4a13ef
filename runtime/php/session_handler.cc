// runtime/php/session_handler.cc: PHP's session save handler `ephpm` on the key-value store.
//
// Owns: the ps_module (open/close/read/write/destroy/gc/create_sid/validate_sid/update_timestamp),
// the per-session lock and the INI settings ephpm.session_lock_ttl / ephpm.session_lock_wait.
// Keys are ePHPm's, so data written by either server reads the same:
//   session:<id>       the serialized session, TTL = session.gc_maxlifetime (0 = none)
//   session_lock:<id>  a random token while a request holds the session, TTL = lock TTL
//
// Locking, like PHP's files handler (concurrent requests of one session cannot lose updates), but
// without polling: read() takes the lock with SetNx(token, lock TTL); on contention it sleeps in
// Store::Wait on the lock key, which a release (DelIfEq) or the holder's expiry wakes. The lock TTL
// is a dead-man switch for a holder that was killed; a waiter never sleeps past that deadline, so
// it takes over even when nothing else reaps the expired key. The wait is bounded by
// ephpm.session_lock_wait, ends early on the watchdog's cancel flag or a pending PHP interrupt
// (timeout, pcntl signal), and then read() fails with a warning instead of hanging the worker.
// close()/destroy() release with DelIfEq, so a request that outlived its lock never frees the next
// holder's. write() refuses to save once the lock is no longer ours (a warning says why): a late
// writer must not overwrite what the next holder saved. ePHPm instead proceeds without the lock
// after its wait; we fail the read, which is the only way to keep "no lost updates" true.
//
// Embedding rules (docs/embedding-php.md section 11): the store returns with no lock held, every
// store call sits in a noexcept wrapper, and warnings (which may run user error handlers) are
// raised only after the C++ work is done, with nothing that has a destructor on the stack.
#include "runtime/php/session_handler.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <string_view>

#include "runtime/kv/store.h"
#include "runtime/php/php_headers.h"
#include "runtime/php/kv_binding.h"

extern "C" {
#include "ext/session/php_session.h"
}

namespace {

using ephpm::kv::Store;
using ephpm::kv::WaitResult;

constexpr std::string_view kDataPrefix = "session:";
constexpr std::string_view kLockPrefix = "session_lock:";
// PHP itself caps ids at 256 characters; anything longer never reaches a handler.
constexpr size_t kMaxIdLength = 256;
// How long one Store::Wait sleeps before re-checking the deadline and PHP's interrupt flag.
constexpr int64_t kWaitSliceMs = 200;
constexpr size_t kTokenLength = 32;  // 16 random bytes, hex
constexpr size_t kInlineReadBytes = 4096;

zend_long g_lock_ttl_seconds = 30;
zend_long g_lock_wait_seconds = 30;

// The one session a PHP thread can have open at a time (NTS: one PHP thread per process).
// Plain data, so nothing needs destroying when a bailout unwinds past a handler.
struct SessionState {
  bool locked = false;
  size_t lock_key_length = 0;
  char lock_key[kLockPrefix.size() + kMaxIdLength];
  char token[kTokenLength];
};
SessionState g_state;

thread_local std::string t_scratch;  // lock values and oversized reads; never across a Zend call

enum class LockOutcome { kAcquired, kTimedOut, kCancelled, kInterrupted, kStoreError };

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// prefix + id into buf (which holds prefix + kMaxIdLength bytes).
std::string_view KeyFor(std::string_view prefix, const zend_string* id, char* buf) {
  memcpy(buf, prefix.data(), prefix.size());
  memcpy(buf + prefix.size(), ZSTR_VAL(id), ZSTR_LEN(id));
  return std::string_view(buf, prefix.size() + ZSTR_LEN(id));
}

std::string_view LockKey(const SessionState& state) {
  return std::string_view(state.lock_key, state.lock_key_length);
}

std::string_view Token(const SessionState& state) {
  return std::string_view(state.token, kTokenLength);
}

void NewToken(SessionState* state) {
  unsigned char bytes[kTokenLength / 2];
  if (getrandom(bytes, sizeof(bytes), 0) != static_cast<ssize_t>(sizeof(bytes))) {
    // No entropy source: still unique per holder, which is all a lock token needs.
    static std::atomic<uint64_t> counter{0};
    uint64_t mix[2] = {static_cast<uint64_t>(getpid()) << 32 ^ counter.fetch_add(1),
                       static_cast<uint64_t>(NowMs())};
    memcpy(bytes, mix, sizeof(bytes));
  }
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof(bytes); ++i) {
    state->token[2 * i] = kHex[bytes[i] >> 4];
    state->token[2 * i + 1] = kHex[bytes[i] & 15];
  }
}

// A store call's result, false when it threw (the functions' Guard(): no exception crosses Zend).
template <class F>
bool Safely(F&& f) noexcept {
  bool ok = false;
  return ephpm::php::binding::Guard([&] { ok = f(); }) == ephpm::php::binding::kGuardOk && ok;
}

// Takes the lock or sleeps until its holder releases it (or dies), the deadline passes, the
// watchdog cancels, or PHP has an interrupt pending. Plain C++: no Zend call inside.
LockOutcome AcquireLock(Store* store, std::string_view key, std::string_view token) noexcept {
  try {
    const int64_t deadline = NowMs() + g_lock_wait_seconds * 1000;
    const std::atomic<bool>* cancel = &ephpm::php::binding::g_wait_cancel;
    for (;;) {
      if (store->SetNx(key, token, g_lock_ttl_seconds)) return LockOutcome::kAcquired;
      if (NowMs() >= deadline) return LockOutcome::kTimedOut;
      // Version 0 returns at once with the key's current version: from here on, a release is a
      // version change and cannot slip between our check and our sleep.
      WaitResult snapshot = store->Wait(key, 0, 0, cancel, &t_scratch);
      if (snapshot.status == WaitResult::Status::kCancelled) return LockOutcome::kCancelled;
      if (!snapshot.has_value) continue;  // released in between: try again
      for (;;) {
        int64_t remaining = deadline - NowMs();
        if (remaining <= 0) return LockOutcome::kTimedOut;
        // Expiry wakes waiters only once someone reaps the key, so never sleep past the
        // holder's dead-man deadline (Pttl reaps it when it has passed).
        int64_t pttl = store->Pttl(key);
        if (pttl == -2) break;
        int64_t slice = std::min(remaining, kWaitSliceMs);
        if (pttl > 0) slice = std::min(slice, pttl);
        WaitResult r = store->Wait(key, snapshot.version, slice, cancel, &t_scratch);
        if (r.status == WaitResult::Status::kCancelled) return LockOutcome::kCancelled;
        if (r.status == WaitResult::Status::kChanged) break;
        if (zend_atomic_bool_load_ex(&EG(vm_interrupt))) return LockOutcome::kInterrupted;
      }
    }
  } catch (...) {
    return LockOutcome::kStoreError;
  }
}

void ReleaseLock(Store* store, SessionState* state) noexcept {
  if (!state->locked) return;
  state->locked = false;
  Safely([&] { return store->DelIfEq(LockKey(*state), Token(*state)); });
}

// True while the lock taken by read() for `id` still holds our token.
bool HoldsLock(Store* store, const SessionState& state, const zend_string* id) noexcept {
  if (!state.locked) return false;
  char buf[kLockPrefix.size() + kMaxIdLength];
  std::string_view key = KeyFor(kLockPrefix, id, buf);
  if (key != LockKey(state)) return false;
  return Safely([&] { return store->Get(key, &t_scratch) && t_scratch == Token(state); });
}

ZEND_COLD void WarnLockFailure(LockOutcome outcome) {
  switch (outcome) {
    case LockOutcome::kTimedOut:
      php_error_docref(nullptr, E_WARNING,
                       "ephpm: the session is locked by another request; gave up waiting after "
                       ZEND_LONG_FMT " s (ephpm.session_lock_wait)",
                       g_lock_wait_seconds);
      break;
    case LockOutcome::kCancelled:
      php_error_docref(nullptr, E_WARNING,
                       "ephpm: waiting for the session lock was cancelled (request timeout or "
                       "server shutdown)");
      break;
    case LockOutcome::kInterrupted:
      php_error_docref(nullptr, E_WARNING,
                       "ephpm: waiting for the session lock was interrupted (timeout or signal)");
      break;
    default:
      php_error_docref(nullptr, E_WARNING, "ephpm: internal error while locking the session");
      break;
  }
}

ZEND_COLD void WarnLockLost() {
  php_error_docref(nullptr, E_WARNING,
                   "ephpm: session data not saved: this request held the session longer than "
                   "its lock (ephpm.session_lock_ttl = " ZEND_LONG_FMT
                   " s), so another request may have changed it since",
                   g_lock_ttl_seconds);
}

// -------------------------------------------------------------------------------------------------
// The ps_module
// -------------------------------------------------------------------------------------------------

PS_OPEN_FUNC(ephpm) {
  (void)save_path;
  (void)session_name;
  Store* store = ephpm::php::binding::g_store;
  if (store == nullptr) return FAILURE;
  ReleaseLock(store, &g_state);  // left behind only if a previous close never ran
  PS_SET_MOD_DATA(&g_state);    // non-NULL, or PHP never calls close()
  return SUCCESS;
}

PS_CLOSE_FUNC(ephpm) {
  Store* store = ephpm::php::binding::g_store;
  if (store != nullptr) ReleaseLock(store, &g_state);
  PS_SET_MOD_DATA(nullptr);
  return SUCCESS;
}

PS_READ_FUNC(ephpm) {
  (void)maxlifetime;  // reads never touch the TTL; write/update_timestamp set it
  Store* store = ephpm::php::binding::g_store;
  if (store == nullptr || PS_GET_MOD_DATA() == nullptr || ZSTR_LEN(key) > kMaxIdLength) {
    return FAILURE;
  }
  char lock_buf[kLockPrefix.size() + kMaxIdLength];
  std::string_view lock_key = KeyFor(kLockPrefix, key, lock_buf);
  if (!g_state.locked || lock_key != LockKey(g_state)) {
    ReleaseLock(store, &g_state);
    memcpy(g_state.lock_key, lock_key.data(), lock_key.size());
    g_state.lock_key_length = lock_key.size();
    NewToken(&g_state);
    LockOutcome outcome = AcquireLock(store, lock_key, Token(g_state));
    if (outcome != LockOutcome::kAcquired) {
      WarnLockFailure(outcome);
      return FAILURE;
    }
    g_state.locked = true;
  }

  char data_buf[kDataPrefix.size() + kMaxIdLength];
  std::string_view data_key = KeyFor(kDataPrefix, key, data_buf);
  char small[kInlineReadBytes];
  Store::Peeked peeked;
  Store::ReadResult result = Store::ReadResult::kMiss;
  if (!Safely([&] {
        result = store->Read(data_key, small, sizeof(small), &peeked);
        return true;
      })) {
    return FAILURE;
  }
  if (result == Store::ReadResult::kMiss) {
    *val = ZSTR_EMPTY_ALLOC();
  } else if (result == Store::ReadResult::kCopied) {
    *val = zend_string_init(small, peeked.size, 0);
  } else {
    // Big session: copy it once into memory allocated with no store lock held.
    zend_string* out = zend_string_alloc(peeked.size, 0);
    if (Safely([&] { return store->ReadPeeked(peeked, ZSTR_VAL(out)); })) {
      ZSTR_VAL(out)[peeked.size] = '\0';
      *val = out;
    } else {
      zend_string_efree(out);
      bool found = Safely([&] { return store->Get(data_key, &t_scratch); });
      *val = found ? zend_string_init(t_scratch.data(), t_scratch.size(), 0) : ZSTR_EMPTY_ALLOC();
    }
  }
  return SUCCESS;
}

// write and update_timestamp: the data key and bytes, when this request still holds the session's
// lock.
struct SessionWrite {
  Store* store = nullptr;
  char buf[kDataPrefix.size() + kMaxIdLength];
  std::string_view data_key;
  std::string_view data;
};

bool PrepareWrite(zend_string* key, zend_string* val, SessionWrite* w) {
  w->store = ephpm::php::binding::g_store;
  if (w->store == nullptr || ZSTR_LEN(key) > kMaxIdLength) return false;
  if (!HoldsLock(w->store, g_state, key)) {
    WarnLockLost();
    return false;
  }
  w->data_key = KeyFor(kDataPrefix, key, w->buf);
  w->data = std::string_view(ZSTR_VAL(val), ZSTR_LEN(val));
  return true;
}

PS_WRITE_FUNC(ephpm) {
  SessionWrite w;
  if (!PrepareWrite(key, val, &w)) return FAILURE;
  return Safely([&] { return w.store->Set(w.data_key, w.data, maxlifetime); }) ? SUCCESS : FAILURE;
}

// session.lazy_write: the data did not change, so only the TTL moves.
PS_UPDATE_TIMESTAMP_FUNC(ephpm) {
  SessionWrite w;
  if (!PrepareWrite(key, val, &w)) return FAILURE;
  // Expire refuses a missing key (a new, still empty session) and a TTL <= 0 (no expiry wanted):
  // then the value is written, as the files handler creates the file.
  bool ok = Safely([&] {
    return (maxlifetime > 0 && w.store->Expire(w.data_key, maxlifetime)) ||
           w.store->Set(w.data_key, w.data, maxlifetime);
  });
  return ok ? SUCCESS : FAILURE;
}

PS_DESTROY_FUNC(ephpm) {
  Store* store = ephpm::php::binding::g_store;
  if (store == nullptr || ZSTR_LEN(key) > kMaxIdLength) return FAILURE;
  char buf[kDataPrefix.size() + kMaxIdLength];
  std::string_view data_key = KeyFor(kDataPrefix, key, buf);
  Safely([&] { return store->Del(data_key) == 1; });
  char lock_buf[kLockPrefix.size() + kMaxIdLength];
  if (g_state.locked && KeyFor(kLockPrefix, key, lock_buf) == LockKey(g_state)) {
    ReleaseLock(store, &g_state);
  }
  return SUCCESS;
}

// Sessions expire by TTL; gc runs one active-expiry cycle of the store, which also reclaims
// expired sessions nobody touches where no sweeper thread runs yet (`ephpm php`).
PS_GC_FUNC(ephpm) {
  (void)maxlifetime;
  Store* store = ephpm::php::binding::g_store;
  if (store == nullptr) return -1;
  size_t reaped = 0;
  if (!Safely([&] {
        reaped = store->ActiveExpireCycle();
        return true;
      })) {
    return -1;
  }
  *nrdels = static_cast<zend_long>(reaped);
  return *nrdels;
}

// With session.use_strict_mode, an id is accepted only when its session exists.
PS_VALIDATE_SID_FUNC(ephpm) {
  (void)mod_data;
  Store* store = ephpm::php::binding::g_store;
  if (store == nullptr || ZSTR_LEN(key) > kMaxIdLength) return FAILURE;
  char buf[kDataPrefix.size() + kMaxIdLength];
  std::string_view data_key = KeyFor(kDataPrefix, key, buf);
  return Safely([&] { return store->Exists(data_key); }) ? SUCCESS : FAILURE;
}

// PHP's own id generator, re-drawn if the id is already taken.
PS_CREATE_SID_FUNC(ephpm) {
  Store* store = ephpm::php::binding::g_store;
  for (int attempt = 0; attempt < 3; ++attempt) {
    zend_string* id = php_session_create_id(mod_data);
    if (id == nullptr || store == nullptr || ZSTR_LEN(id) > kMaxIdLength) return id;
    char buf[kDataPrefix.size() + kMaxIdLength];
    std::string_view data_key = KeyFor(kDataPrefix, id, buf);
    if (!Safely([&] { return store->Exists(data_key); })) return id;
    zend_string_release_ex(id, 0);
  }
  return php_session_create_id(mod_data);
}

const ps_module kEphpmSessionModule = {PS_MOD_UPDATE_TIMESTAMP(ephpm)};

// A whole number of seconds, at least 1.
ZEND_INI_MH(OnUpdateLockSeconds) {
  (void)entry;
  (void)mh_arg2;
  (void)mh_arg3;
  (void)stage;
  const char* text = ZSTR_VAL(new_value);
  char* end = nullptr;
  zend_long seconds = ZEND_STRTOL(text, &end, 10);
  if (end == text || *end != '\0' || seconds < 1 || seconds > 86400 * 365) return FAILURE;
  *static_cast<zend_long*>(mh_arg1) = seconds;
  return SUCCESS;
}

PHP_INI_BEGIN()
  PHP_INI_ENTRY1("ephpm.session_lock_ttl", "30", PHP_INI_ALL, OnUpdateLockSeconds,
                 &g_lock_ttl_seconds)
  PHP_INI_ENTRY1("ephpm.session_lock_wait", "30", PHP_INI_ALL, OnUpdateLockSeconds,
                 &g_lock_wait_seconds)
PHP_INI_END()

// The ephpm module's own startup/shutdown, if it has any: ours run after/before them.
zend_result (*g_chained_startup)(int, int) = nullptr;
zend_result (*g_chained_shutdown)(int, int) = nullptr;

zend_result SessionHandlerModuleStartup(int type, int module_number) {
  if (g_chained_startup != nullptr && g_chained_startup(type, module_number) == FAILURE) {
    return FAILURE;
  }
  REGISTER_INI_ENTRIES();
  return php_session_register_module(&kEphpmSessionModule);
}

zend_result SessionHandlerModuleShutdown(int type, int module_number) {
  UNREGISTER_INI_ENTRIES();
  return g_chained_shutdown != nullptr ? g_chained_shutdown(type, module_number) : SUCCESS;
}

}  // namespace

namespace ephpm::php {

void InstallSessionHandler(zend_module_entry* ephpm_module) {
  if (ephpm_module->module_startup_func == SessionHandlerModuleStartup) return;
  g_chained_startup = ephpm_module->module_startup_func;
  g_chained_shutdown = ephpm_module->module_shutdown_func;
  ephpm_module->module_startup_func = SessionHandlerModuleStartup;
  ephpm_module->module_shutdown_func = SessionHandlerModuleShutdown;
}

}  // namespace ephpm::php
