#include "runtime/http/static_file.h"

#include <cstdio>
#include <cstring>

namespace ephpm::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view StripWeak(std::string_view tag) {
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  return tag;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string FormatHttpDate(time_t t) {
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::optional<time_t> ParseHttpDate(std::string_view s) {
  std::string str(Trim(s));
  struct tm tm;
  for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                          "%a %b %e %H:%M:%S %Y"}) {
    memset(&tm, 0, sizeof tm);
    const char* end = strptime(str.c_str(), fmt, &tm);
    if (end != nullptr && *end == '\0') return timegm(&tm);
  }
  return std::nullopt;
}

std::string MakeEtag(uint64_t size, int64_t mtime_sec, int64_t mtime_nsec) {
  char buf[80];
  snprintf(buf, sizeof buf, "W/\"%llx-%llx\"", static_cast<unsigned long long>(size),
           static_cast<unsigned long long>(mtime_sec * 1000000000LL + mtime_nsec));
  return buf;
}

bool IfNoneMatch(std::string_view header, std::string_view etag) {
  header = Trim(header);
  if (header == "*") return true;
  std::string_view want = StripWeak(etag);
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = Trim(header.substr(0, comma));
    if (StripWeak(tag) == want) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

RangeResult ParseRange(std::string_view header, uint64_t size, uint64_t* offset,
                       uint64_t* length) {
  header = Trim(header);
  if (header.substr(0, 6) != "bytes=") return RangeResult::kFull;
  std::string_view spec = Trim(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return RangeResult::kFull;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::kFull;
  std::string_view first = Trim(spec.substr(0, dash)), last = Trim(spec.substr(dash + 1));
  uint64_t a = 0, b = 0;
  if (first.empty()) {  // suffix: last N bytes
    if (!ParseU64(last, &b)) return RangeResult::kFull;
    if (b == 0 || size == 0) return RangeResult::kUnsatisfiable;
    if (b > size) b = size;
    *offset = size - b;
    *length = b;
    return RangeResult::kPartial;
  }
  if (!ParseU64(first, &a)) return RangeResult::kFull;
  if (last.empty()) {
    b = size == 0 ? 0 : size - 1;
  } else {
    if (!ParseU64(last, &b) || b < a) return RangeResult::kFull;
    if (b >= size) b = size - 1;
  }
  if (a >= size) return RangeResult::kUnsatisfiable;
  *offset = a;
  *length = b - a + 1;
  return RangeResult::kPartial;
}

StaticDecision DecideStatic(const StaticRequest& req, uint64_t size, int64_t mtime_sec,
                            int64_t mtime_nsec) {
  StaticDecision d;
  d.etag = MakeEtag(size, mtime_sec, mtime_nsec);
  d.last_modified = FormatHttpDate(static_cast<time_t>(mtime_sec));
  d.length = size;
  if (req.has_if_none_match) {
    if (IfNoneMatch(req.if_none_match, d.etag)) {
      d.status = 304;
      return d;
    }
  } else if (req.has_if_modified_since) {
    auto since = ParseHttpDate(req.if_modified_since);
    if (since && mtime_sec <= *since) {
      d.status = 304;
      return d;
    }
  }
  if (!req.has_range) return d;
  if (req.has_if_range) {
    std::string_view ir = Trim(req.if_range);
    bool fresh;
    if (!ir.empty() && (ir.front() == '"' || ir.substr(0, 2) == "W/")) {
      fresh = false;  // weak validators never match If-Range (strong comparison required)
    } else {
      auto date = ParseHttpDate(ir);
      fresh = date && *date == mtime_sec;
    }
    if (!fresh) return d;
  }
  uint64_t off = 0, len = 0;
  switch (ParseRange(req.range, size, &off, &len)) {
    case RangeResult::kFull:
      return d;
    case RangeResult::kUnsatisfiable:
      d.status = 416;
      d.offset = 0;
      d.length = 0;
      d.content_range = "bytes */" + std::to_string(size);
      return d;
    case RangeResult::kPartial:
      d.status = 206;
      d.offset = off;
      d.length = len;
      d.content_range = "bytes " + std::to_string(off) + "-" + std::to_string(off + len - 1) +
                        "/" + std::to_string(size);
      return d;
  }
  return d;
}

}  // namespace ephpm::http
