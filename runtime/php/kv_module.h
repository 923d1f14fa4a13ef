// runtime/php/kv_module.h: the `ephpm` zend extension (ephpm_kv_* functions), kv_functions.cc.
// Internal to runtime/php: the public entry points are in engine.h.
#ifndef EPHPM_RUNTIME_PHP_KV_MODULE_H_
#define EPHPM_RUNTIME_PHP_KV_MODULE_H_

struct _zend_module_entry;

namespace ephpm::php {

// The module passed to php_module_startup() as the additional module. Its function table
// includes the ephpm_test_* hooks only when SetTestHooksEnabled(true) was called before.
_zend_module_entry* EphpmModuleEntry();
void SetTestHooksEnabled(bool enabled);
// Registers the worker-mode functions, Ephpm\Worker\Envelope, fastcgi_finish_request() and
// getallheaders() (worker_functions.cc); called from the module's MINIT.
void RegisterWorkerApi(int type);
// Joins the helper threads started by ephpm_test_* hooks (they touch the store); called by
// EngineShutdown() so they never outlive the store.
void StopTestHookThreads();

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_KV_MODULE_H_
