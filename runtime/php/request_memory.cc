// RequestMemory (request_memory.h).
#include "runtime/php/request_memory.h"

#include "runtime/php/php_headers.h"

namespace ephpm::php {
namespace {

RequestMemory g_last;  // PHP thread only

}  // namespace

void RecordRequestMemory() {
  g_last.in_use = zend_memory_usage(false);
  g_last.peak = zend_memory_peak_usage(false);
}

RequestMemory LastRequestMemory() { return g_last; }

RequestMemory TakeRequestMemory() {
  RecordRequestMemory();
  zend_memory_reset_peak_usage();
  return g_last;
}

}  // namespace ephpm::php
