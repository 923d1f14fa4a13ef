#include "runtime/kv/sweeper.h"

#include <chrono>

namespace ephpm::kv {

Sweeper::Sweeper(Store* store) : store_(store), thread_([this] { Run(); }) {}

Sweeper::~Sweeper() { Stop(); }

void Sweeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sweeper::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    store_->ActiveExpireCycle();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(kSweeperTickMs), [this] { return stopping_; });
  }
}

}  // namespace ephpm::kv
