#include "runtime/http/child_exit.h"

#include <string.h>
#include <sys/wait.h>

#include <algorithm>

namespace ephpm::http {

std::string DescribeExit(int status) {
  if (!WIFSIGNALED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  int sig = WTERMSIG(status);
  const char* name = sigabbrev_np(sig);
  return "killed by signal " + std::to_string(sig) + " (SIG" + (name != nullptr ? name : "?") +
         ")";
}

std::chrono::milliseconds CrashLoopDelay(std::chrono::steady_clock::duration lived,
                                         int* quick_failures) {
  *quick_failures = lived < kQuickFailure ? *quick_failures + 1 : 1;
  if (*quick_failures <= kFreeQuickFailures) return std::chrono::milliseconds(0);
  int k = std::min(*quick_failures - kFreeQuickFailures - 1, 10);
  return std::min<std::chrono::milliseconds>(std::chrono::milliseconds(250LL << k), kMaxBackoff);
}

}  // namespace ephpm::http
