// The hand-off between the I/O threads and the one PHP thread of a process.
//
// Every PHP request an I/O thread has parsed and routed becomes a PhpJob in this bounded queue;
// the PHP loop (worker.h) pops them one at a time. The bound is `[server] php_queue_size`: a full
// queue is answered with 503 by the I/O thread instead of letting requests pile up behind a slow
// script. Closing the queue is how a drain tells the PHP loop to finish.
#ifndef EPHPM_RUNTIME_HTTP_JOB_QUEUE_H_
#define EPHPM_RUNTIME_HTTP_JOB_QUEUE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

#include "runtime/php/request_sapi.h"

namespace ephpm::http {

// One request for the PHP thread: its inputs and the connection-side writer.
struct PhpJob {
  php::RequestInfo info;
  std::shared_ptr<php::ResponseWriter> writer;
};

// Bounded multi-producer, single-consumer queue (mutex + condvar).
class JobQueue {
 public:
  explicit JobQueue(size_t capacity) : capacity_(capacity) {}
  // false when full or closed (the caller answers 503).
  bool TryPush(std::unique_ptr<PhpJob> job);
  // Blocks; nullptr once closed and empty.
  std::unique_ptr<PhpJob> Pop();
  // Like Pop(), but returns nullptr at `deadline` too; *closed is true when the queue is closed
  // and empty (worker mode's back-off between boot attempts).
  std::unique_ptr<PhpJob> PopUntil(std::chrono::steady_clock::time_point deadline, bool* closed);
  void Close();
  size_t size();

 private:
  // The front job or nullptr when empty; mu_ held.
  std::unique_ptr<PhpJob> TakeFrontLocked();

  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<PhpJob>> jobs_;
  bool closed_ = false;
  std::atomic<size_t> pending_{0};  // jobs_.size() readable without the lock (spin phase)
  bool sleeping_ = false;           // the consumer waits on cv_ (guarded by mu_)
};

// How long the PHP thread polls an empty queue before it sleeps (see JobQueue::Pop).
inline constexpr int kSpinMicros = 50;

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_JOB_QUEUE_H_
