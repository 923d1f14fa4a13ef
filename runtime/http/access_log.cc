// AccessLog (access_log.h).
#include "runtime/http/access_log.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <spdlog/spdlog.h>

namespace ephpm::http {

AccessLog::AccessLog(const std::string& target) {
  if (target.empty()) return;
  if (target == "-") {
    file_ = stdout;
    return;
  }
  file_ = fopen(target.c_str(), "ae");
  if (file_ == nullptr) {
    spdlog::error("access_log {}: {}", target, strerror(errno));
  } else {
    owned_ = true;
  }
}

AccessLog::~AccessLog() {
  if (owned_ && file_ != nullptr) fclose(file_);
}

void AccessLog::Log(const std::string& remote, std::string_view method, std::string_view target,
                    unsigned version, int status, uint64_t bytes, int64_t micros) {
  if (!enabled()) return;
  char when[64];
  time_t now = time(nullptr);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
  std::string line = remote + " - - [" + when + "] \"" + std::string(method) + " " +
                     std::string(target) + " HTTP/" + std::to_string(version / 10) + "." +
                     std::to_string(version % 10) + "\" " + std::to_string(status) + " " +
                     std::to_string(bytes) + " " + std::to_string(micros) + "\n";
  Write(line);
}

void AccessLog::Write(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return;
  fwrite(line.data(), 1, line.size(), file_);
  fflush(file_);
}

}  // namespace ephpm::http
