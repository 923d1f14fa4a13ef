// The access log: one line per answered request, in the format `[log] access_log_format` names.
//
// Written by every I/O thread of a worker, so each line goes out under one mutex with one
// fwrite + fflush: with worker processes every worker appends its own lines to the same file
// (O_APPEND), and a line is never split between two writers. Each worker process opens the
// file itself; Reopen() (SIGUSR1, which the master passes on to every worker) lets logrotate
// move the file away and have new lines go to a new one.
//
// Formats (FormatAccessLine):
//   common_duration  `remote - - [time] "METHOD target HTTP/x.y" status bytes microseconds`
//   common           the same without the duration (the common log format)
//   combined         common + ` "referer" "user-agent"` (nginx's and Apache's "combined")
//   json             one object per line: time (ISO 8601, UTC, milliseconds), remote_addr,
//                    method, uri, protocol, status, bytes, duration_us, referer, user_agent, host
// `bytes` is what was sent of the response body. In the text formats the request line, referer
// and user agent are escaped as nginx does: `"`, `\` and bytes outside 0x20..0x7e as \xHH; an
// empty referer or user agent is `-`. JSON strings escape `"`, `\` and control bytes, and keep
// valid UTF-8; a byte that is not part of valid UTF-8 becomes \u00HH.
#ifndef EPHPM_RUNTIME_HTTP_ACCESS_LOG_H_
#define EPHPM_RUNTIME_HTTP_ACCESS_LOG_H_

#include <stdio.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "runtime/config/config.h"

namespace ephpm::http {

struct AccessEntry {
  std::chrono::system_clock::time_point time;  // when the response was finished
  std::string_view remote;                     // client address
  std::string_view method;
  std::string_view target;  // as received
  unsigned version = 11;    // 10 or 11
  int status = 0;
  uint64_t bytes = 0;
  int64_t micros = 0;  // from the first byte of the request to the end of the response
  std::string_view referer;
  std::string_view user_agent;
  std::string_view host;
};

// One line, with its trailing newline. Text formats use local time (as nginx's $time_local).
std::string FormatAccessLine(config::AccessLogFormat format, const AccessEntry& entry);

class AccessLog {
 public:
  // "" = off, "-" = stdout, anything else a file opened for appending.
  AccessLog(const std::string& target, config::AccessLogFormat format);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Configured (even if the file could not be opened: a later Reopen may succeed).
  bool enabled() const { return !target_.empty(); }
  void Log(const AccessEntry& entry);
  // Opens the file again by its name (a file moved away by logrotate keeps what it has). On
  // failure the old file stays in use and the error is logged. Thread-safe.
  void Reopen();

 private:
  void Write(const std::string& line);

  const std::string target_;
  const config::AccessLogFormat format_;
  std::mutex mu_;
  FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_ACCESS_LOG_H_
