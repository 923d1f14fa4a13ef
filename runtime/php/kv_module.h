// runtime/php/kv_module.h: the `ephpm` zend extension (ephpm_kv_* functions), kv_functions.cc.
// Internal to runtime/php: the public entry points are in engine.h.
#ifndef EPHPM_RUNTIME_PHP_KV_MODULE_H_
#define EPHPM_RUNTIME_PHP_KV_MODULE_H_

struct _zend_module_entry;
struct _zend_function_entry;

namespace ephpm::php {

// The module passed to php_module_startup() as the additional module.
_zend_module_entry* EphpmModuleEntry();

// Extra functions for our own test suites. Only the test binary (ephpm-test-hooks, built with
// runtime/php/test_hooks.cc) installs them, from a static initializer, before main() runs; the
// module registers them at startup. The `ephpm` binary never has them.
struct TestHooks {
  const _zend_function_entry* functions;
  // Joins the helper threads the hooks started (they touch the store).
  void (*stop_threads)();
};
void InstallTestHooks(const TestHooks* hooks);
// Called by EngineShutdown() so hook threads never outlive the store. No-op without hooks.
void StopTestHookThreads();

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_KV_MODULE_H_
