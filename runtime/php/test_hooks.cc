// runtime/php/test_hooks.cc: the ephpm_test_* functions (ephpm_test_hooks.stub.php) that let our
// own test suites reach what PHP code cannot: a write from another thread to wake ephpm_kv_wait,
// the cancellation the request watchdog performs, the store's watch slots and expire cycle, and a
// C++ exception thrown below a native function (docs/embedding-php.md section 11).
//
// Compiled only into the test binary ephpm-test-hooks (runtime/CMakeLists.txt), never into
// `ephpm`: a static initializer installs the hooks into the `ephpm` module before main() runs.
// Helper threads never touch Zend.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

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
#include "runtime/php/kv_binding.h"
#include "runtime/php/kv_module.h"
#include "runtime/php/php_headers.h"

#include "runtime/php/ephpm_test_hooks_arginfo.h"

namespace {

using ephpm::kv::Store;
using ephpm::php::binding::ClampToLong;
using ephpm::php::binding::View;

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
    Store* store = ephpm::php::binding::g_store;
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

namespace {

void StopHookThreads() {
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

const ephpm::php::TestHooks kHooks = {ext_functions, StopHookThreads};
[[maybe_unused]] const bool kInstalled = (ephpm::php::InstallTestHooks(&kHooks), true);

}  // namespace
