#include "runtime/http/framing.h"

#include <strings.h>

#include <cstdint>
#include <optional>

#include "runtime/ascii.h"
#include "runtime/http/request_info.h"

namespace ephpm::http {
namespace {

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each non-empty element of a comma-separated list (RFC 9110 section 5.6.1:
// empty elements and the whitespace around elements do not count).
template <class Fn>
void ForEachListElement(std::string_view list, Fn&& fn) {
  for (;;) {
    size_t comma = list.find(',');
    std::string_view element = TrimOws(list.substr(0, comma));
    if (!element.empty()) fn(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

bool IsChunked(std::string_view coding) {
  return AsciiIEquals(coding, "chunked");
}

bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

FramingVerdict Reject(int status, const char* reason) { return FramingVerdict{status, reason}; }

FramingVerdict CheckHost(const RequestHead& head) {
  if (head.version == 11 && head.host.size() != 1) {
    return Reject(400, "an HTTP/1.1 request needs exactly one Host header");
  }
  if (head.host.size() > 1) return Reject(400, "more than one Host header");
  HostHeader parsed;
  if (!head.host.empty() && !ParseHostHeader(head.host.front(), &parsed)) {
    return Reject(400, "invalid Host header");
  }
  return {};
}

FramingVerdict CheckTransferEncoding(const RequestHead& head) {
  if (head.version == 10) return Reject(400, "Transfer-Encoding in an HTTP/1.0 request");
  if (!head.content_length.empty()) {
    return Reject(400, "Transfer-Encoding together with Content-Length");
  }
  size_t codings = 0;
  size_t chunked = 0;
  bool last_is_chunked = false;
  for (std::string_view line : head.transfer_encoding) {
    ForEachListElement(line, [&](std::string_view coding) {
      ++codings;
      last_is_chunked = IsChunked(coding);
      if (last_is_chunked) ++chunked;
    });
  }
  if (codings == 0) return Reject(400, "empty Transfer-Encoding");
  if (!last_is_chunked) return Reject(400, "the final transfer coding is not chunked");
  if (chunked > 1) return Reject(400, "chunked applied more than once");
  if (codings > 1) return Reject(501, "transfer coding other than chunked");
  return {};
}

FramingVerdict CheckContentLength(const RequestHead& head) {
  std::optional<uint64_t> length;
  for (std::string_view line : head.content_length) {
    // Every element must be a number, unlike other lists where empty elements are skipped: "5,"
    // or "" hides a value another parser may read differently.
    for (;;) {
      size_t comma = line.find(',');
      uint64_t value;
      if (!ParseDecimal(TrimOws(line.substr(0, comma)), &value) || (length && *length != value)) {
        return Reject(400, "invalid or conflicting Content-Length");
      }
      length = value;
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
  }
  return {};
}

}  // namespace

FramingVerdict CheckFraming(const RequestHead& head) {
  FramingVerdict verdict = CheckHost(head);
  if (!verdict.ok()) return verdict;
  if (!head.transfer_encoding.empty()) return CheckTransferEncoding(head);
  return CheckContentLength(head);
}

}  // namespace ephpm::http
