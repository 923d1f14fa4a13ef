// runtime/php/session_handler.h: the native session save handler `ephpm`
// (`session.save_handler = ephpm`), implemented in session_handler.cc.
//
// Internal to runtime/php. The engine calls InstallSessionHandler() on the `ephpm` module entry
// before php_module_startup(): the handler and its INI settings are then registered by that
// module's startup (INI entries can only be registered while PHP starts up). PHP looks the save
// handler up by name at every request start, so an INI `session.save_handler = ephpm` set at
// startup (php.ini, -d, [php.ini]) or with ini_set() finds it.
#ifndef EPHPM_RUNTIME_PHP_SESSION_HANDLER_H_
#define EPHPM_RUNTIME_PHP_SESSION_HANDLER_H_

struct _zend_module_entry;

namespace ephpm::php {

// Makes the module's startup register the `ephpm` ps_module and the INI settings
// ephpm.session_lock_ttl and ephpm.session_lock_wait (chaining any startup/shutdown the module
// already has). Idempotent. Never throws.
void InstallSessionHandler(_zend_module_entry* ephpm_module);

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_SESSION_HANDLER_H_
