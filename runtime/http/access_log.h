// The access log: one line per answered request, common log format plus the duration.
//
// Written by every I/O thread, so each line goes out under one mutex with one fwrite + fflush:
// with worker processes every worker appends its own lines to the same file (O_APPEND), and a
// line is never split between two writers.
#ifndef EPHPM_RUNTIME_HTTP_ACCESS_LOG_H_
#define EPHPM_RUNTIME_HTTP_ACCESS_LOG_H_

#include <stdio.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace ephpm::http {

class AccessLog {
 public:
  // "" = off, "-" = stdout, anything else a file opened for appending.
  explicit AccessLog(const std::string& target);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  bool enabled() const { return file_ != nullptr; }
  // `remote - - [time] "METHOD target HTTP/x.y" status bytes microseconds`; version is 10 or 11.
  void Log(const std::string& remote, std::string_view method, std::string_view target,
           unsigned version, int status, uint64_t bytes, int64_t micros);

 private:
  void Write(const std::string& line);

  std::mutex mu_;
  FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_ACCESS_LOG_H_
