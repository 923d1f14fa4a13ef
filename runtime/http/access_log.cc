// AccessLog and the line formats (access_log.h).
#include "runtime/http/access_log.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <spdlog/spdlog.h>

namespace ephpm::http {
namespace {

// nginx's escaping of logged variables: '"', '\' and bytes outside printable ASCII as \xHH.
void AppendEscapedText(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

// Length of the valid UTF-8 sequence at s[i] (1..4), 0 if the bytes there are not one.
size_t Utf8Length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  // Overlong forms, surrogates and values beyond U+10FFFF are not valid UTF-8.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = Utf8Length(s, i);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c >= 0x20 && n >= 1) {
      out->append(s.substr(i, n));
      i += n;
      continue;
    } else {  // a control byte, or a byte that does not start valid UTF-8
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
    ++i;
  }
  out->push_back('"');
}

std::string Protocol(unsigned version) {
  return "HTTP/" + std::to_string(version / 10) + "." + std::to_string(version % 10);
}

std::string TextLine(config::AccessLogFormat format, const AccessEntry& e) {
  char when[64];
  time_t t = std::chrono::system_clock::to_time_t(e.time);
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
  std::string line(e.remote);
  line += " - - [";
  line += when;
  line += "] \"";
  AppendEscapedText(&line, e.method);
  line += ' ';
  AppendEscapedText(&line, e.target);
  line += ' ' + Protocol(e.version) + "\" " + std::to_string(e.status) + " " +
          std::to_string(e.bytes);
  if (format == config::AccessLogFormat::kCommonDuration) {
    line += " " + std::to_string(e.micros);
  } else if (format == config::AccessLogFormat::kCombined) {
    for (std::string_view field : {e.referer, e.user_agent}) {
      line += " \"";
      if (field.empty()) line += '-';
      else AppendEscapedText(&line, field);
      line += '"';
    }
  }
  line += '\n';
  return line;
}

std::string JsonLine(const AccessEntry& e) {
  auto since_epoch = e.time.time_since_epoch();
  time_t t = std::chrono::system_clock::to_time_t(e.time);
  int millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char when[64];
  size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(when + n, sizeof when - n, ".%03dZ", millis < 0 ? 0 : millis);
  std::string line = "{\"time\":\"";
  line += when;
  line += "\",\"remote_addr\":";
  AppendJsonString(&line, e.remote);
  line += ",\"method\":";
  AppendJsonString(&line, e.method);
  line += ",\"uri\":";
  AppendJsonString(&line, e.target);
  line += ",\"protocol\":\"" + Protocol(e.version) + "\",\"status\":" + std::to_string(e.status) +
          ",\"bytes\":" + std::to_string(e.bytes) +
          ",\"duration_us\":" + std::to_string(e.micros) + ",\"referer\":";
  AppendJsonString(&line, e.referer);
  line += ",\"user_agent\":";
  AppendJsonString(&line, e.user_agent);
  line += ",\"host\":";
  AppendJsonString(&line, e.host);
  line += "}\n";
  return line;
}

}  // namespace

std::string FormatAccessLine(config::AccessLogFormat format, const AccessEntry& entry) {
  return format == config::AccessLogFormat::kJson ? JsonLine(entry) : TextLine(format, entry);
}

AccessLog::AccessLog(const std::string& target, config::AccessLogFormat format)
    : target_(target), format_(format) {
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

void AccessLog::Log(const AccessEntry& entry) {
  if (!enabled()) return;
  Write(FormatAccessLine(format_, entry));
}

void AccessLog::Reopen() {
  if (target_.empty() || target_ == "-") return;
  FILE* fresh = fopen(target_.c_str(), "ae");
  if (fresh == nullptr) {
    spdlog::error("access_log {}: reopen failed, still writing to the old file: {}", target_,
                  strerror(errno));
    return;
  }
  FILE* old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = owned_ ? file_ : nullptr;
    file_ = fresh;
    owned_ = true;
  }
  if (old != nullptr) fclose(old);
}

void AccessLog::Write(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return;
  fwrite(line.data(), 1, line.size(), file_);
  fflush(file_);
}

}  // namespace ephpm::http
