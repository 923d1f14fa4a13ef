// runtime/php/php_headers.h: the PHP 8.2 headers our glue needs, in one place.
// Only .cc files of runtime/php (and the server's request SAPI) include this; never include it
// from a header that plain C++ code (main.cc, runtime/http) sees.
#ifndef EPHPM_RUNTIME_PHP_PHP_HEADERS_H_
#define EPHPM_RUNTIME_PHP_PHP_HEADERS_H_

extern "C" {
#include "php.h"
#include "SAPI.h"
#include "php_main.h"
#include "php_variables.h"
#include "php_ini.h"
#include "php_streams.h"
#include "php_output.h"
#include "zend_exceptions.h"
#include "zend_interfaces.h"
#include "zend_ini.h"
#include "zend_modules.h"
#include "zend_extensions.h"
#include "zend_signal.h"
#include "ext/standard/info.h"
#include "ext/standard/php_var.h"
}

#endif  // EPHPM_RUNTIME_PHP_PHP_HEADERS_H_
