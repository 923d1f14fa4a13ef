// How much Zend memory the PHP thread's requests use, for the server's metrics
// (runtime/http/metrics.h: ephpm_php_memory_bytes, ephpm_php_memory_peak_bytes). Plain C++: the
// server includes this without PHP's headers.
//
// Classic mode frees a request's memory in php_request_shutdown(), so the numbers are taken just
// before it (RecordRequestMemory, request_sapi.cc). Worker mode keeps one long request, so the
// numbers are taken after each handled request, and the peak is reset for the next one
// (TakeRequestMemory, PHP 8.2's zend_memory_reset_peak_usage).
#ifndef EPHPM_RUNTIME_PHP_REQUEST_MEMORY_H_
#define EPHPM_RUNTIME_PHP_REQUEST_MEMORY_H_

#include <cstdint>

namespace ephpm::php {

struct RequestMemory {
  uint64_t in_use = 0;  // zend_memory_usage(false)
  uint64_t peak = 0;    // zend_memory_peak_usage(false)
};

// PHP thread, inside a request, before its shutdown: remembers the current numbers.
void RecordRequestMemory();
// PHP thread: what RecordRequestMemory() remembered last.
RequestMemory LastRequestMemory();
// PHP thread, inside the worker script's request: the numbers now; resets the peak.
RequestMemory TakeRequestMemory();

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_REQUEST_MEMORY_H_
