// Conditional and range logic for static files (pure functions, unit-tested).
#ifndef EPHPM_RUNTIME_HTTP_STATIC_FILE_H_
#define EPHPM_RUNTIME_HTTP_STATIC_FILE_H_

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace ephpm::http {

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string FormatHttpDate(time_t t);
// Accepts IMF-fixdate, RFC 850 and asctime forms; nullopt when unparsable.
std::optional<time_t> ParseHttpDate(std::string_view s);

// Weak validator from size and modification time: W/"<size hex>-<mtime ns hex>".
std::string MakeEtag(uint64_t size, int64_t mtime_sec, int64_t mtime_nsec);

// If-None-Match: true when any listed tag weakly matches etag, or the header is "*".
bool IfNoneMatch(std::string_view header, std::string_view etag);

enum class RangeResult { kFull, kPartial, kUnsatisfiable };
// One "bytes=" range (first-last, first-, -suffix). Several ranges or a syntax error mean
// kFull (the header is ignored, as RFC 9110 allows).
RangeResult ParseRange(std::string_view header, uint64_t size, uint64_t* offset, uint64_t* length);

struct StaticRequest {
  std::string_view if_none_match;
  std::string_view if_modified_since;
  std::string_view range;
  std::string_view if_range;
  bool has_if_none_match = false;
  bool has_if_modified_since = false;
  bool has_range = false;
  bool has_if_range = false;
};

struct StaticDecision {
  int status = 200;  // 200, 206, 304, 416
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string etag;
  std::string last_modified;
  std::string content_range;  // for 206 and 416
};

StaticDecision DecideStatic(const StaticRequest& req, uint64_t size, int64_t mtime_sec,
                            int64_t mtime_nsec);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_STATIC_FILE_H_
