#include "runtime/resp/process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "runtime/resp/server.h"

namespace ephpm::resp {

[[noreturn]] void RunRespProcess(const config::RedisCompatConfig& config, kv::Store* store,
                                 int listen_fd, pid_t parent) {
  prctl(PR_SET_NAME, "ephpm-resp");
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(0);  // the parent died before PDEATHSIG was armed
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // serve blocks the stop signals for its signalfd
  boost::asio::io_context io(1);
  boost::asio::signal_set stop(io, SIGTERM, SIGINT, SIGQUIT);
  stop.async_wait([&io](const boost::system::error_code&, int) { io.stop(); });
  Server server(io, listen_fd, config, store);
  server.Start();
  io.run();
  // The store's mapping and name belong to the parent; nothing here needs destructors.
  _exit(0);
}

pid_t StartRespProcess(const config::RedisCompatConfig& config, kv::Store* store, int listen_fd,
                       const std::vector<int>& close_in_child, std::string* error) {
  pid_t parent = getpid();
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    return -1;
  }
  if (pid == 0) {
    for (int fd : close_in_child) close(fd);
    RunRespProcess(config, store, listen_fd, parent);
  }
  return pid;
}

void StopRespProcess(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace ephpm::resp
