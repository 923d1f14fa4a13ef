// The always-on active-expiry thread (Redis's expire cycle, see expire.cc for the algorithm).
#ifndef EPHPM_RUNTIME_KV_SWEEPER_H_
#define EPHPM_RUNTIME_KV_SWEEPER_H_

#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/kv/store.h"

namespace ephpm::kv {

inline constexpr int kSweeperTickMs = 100;

// Runs Store::ActiveExpireCycle every kSweeperTickMs on its own thread until Stop() or
// destruction. The store must outlive the sweeper.
class Sweeper {
 public:
  explicit Sweeper(Store* store);
  ~Sweeper();
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

  void Stop();

 private:
  void Run();

  Store* const store_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_SWEEPER_H_
