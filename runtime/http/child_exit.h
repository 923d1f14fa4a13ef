// How the master of `ephpm serve` (supervisor.h) judges a child that died: the words its log
// lines use, and the crash-loop back-off. Shared by the worker slots and the RESP process
// (resp_keeper.h), so both are restarted by the same rule.
#ifndef EPHPM_RUNTIME_HTTP_CHILD_EXIT_H_
#define EPHPM_RUNTIME_HTTP_CHILD_EXIT_H_

#include <chrono>
#include <string>

namespace ephpm::http {

// A child that dies within this time of its start counts as a quick failure; after
// kFreeQuickFailures of them in a row, its restarts back off (crash loop), up to kMaxBackoff.
inline constexpr auto kQuickFailure = std::chrono::seconds(1);
inline constexpr int kFreeQuickFailures = 3;
inline constexpr auto kMaxBackoff = std::chrono::seconds(10);

// "killed by signal 9 (SIGKILL)" or "exited with code 1", from a waitpid() status.
std::string DescribeExit(int status);

// A child that crashed after living `lived`: updates its streak of quick failures and returns
// how long to wait before starting it again (0 unless it is crash-looping).
std::chrono::milliseconds CrashLoopDelay(std::chrono::steady_clock::duration lived,
                                         int* quick_failures);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_CHILD_EXIT_H_
