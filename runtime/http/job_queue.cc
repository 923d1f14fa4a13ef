// JobQueue (job_queue.h). The consumer spins briefly before it sleeps: under load the next job
// usually arrives within microseconds, and a futex sleep plus wake-up costs far more than that on
// virtualised machines.
#include "runtime/http/job_queue.h"

#include <chrono>

namespace ephpm::http {

bool JobQueue::TryPush(std::unique_ptr<PhpJob> job) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || jobs_.size() >= capacity_) return false;
    jobs_.push_back(std::move(job));
    pending_.store(jobs_.size(), std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) cv_.notify_one();
  return true;
}

std::unique_ptr<PhpJob> JobQueue::Pop() {
  auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
  while (pending_.load(std::memory_order_acquire) == 0 &&
         std::chrono::steady_clock::now() < spin_until) {
    __builtin_ia32_pause();
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_ = true;
  cv_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
  sleeping_ = false;
  return TakeFrontLocked();
}

std::unique_ptr<PhpJob> JobQueue::PopUntil(std::chrono::steady_clock::time_point deadline,
                                           bool* closed) {
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_ = true;
  cv_.wait_until(lock, deadline, [&] { return closed_ || !jobs_.empty(); });
  sleeping_ = false;
  *closed = closed_ && jobs_.empty();
  return TakeFrontLocked();
}

std::unique_ptr<PhpJob> JobQueue::TakeFrontLocked() {
  if (jobs_.empty()) return nullptr;
  auto job = std::move(jobs_.front());
  jobs_.pop_front();
  pending_.store(jobs_.size(), std::memory_order_release);
  return job;
}

void JobQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    pending_.store(1, std::memory_order_release);
  }
  cv_.notify_all();
}

size_t JobQueue::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

}  // namespace ephpm::http
