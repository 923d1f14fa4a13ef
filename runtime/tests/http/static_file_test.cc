// Conditional requests, ranges and MIME lookup for static files.
#include "runtime/http/mime.h"
#include "runtime/http/static_file.h"

#include <gtest/gtest.h>

namespace ephpm::http {
namespace {

TEST(HttpDate, FormatAndParse) {
  EXPECT_EQ(FormatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_FALSE(ParseHttpDate("yesterday").has_value());
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT trailing").has_value());
}

TEST(Etag, WeakMatching) {
  std::string e = MakeEtag(12, 1700000000, 5);
  EXPECT_EQ(e.substr(0, 3), "W/\"");
  EXPECT_TRUE(IfNoneMatch(e, e));
  EXPECT_TRUE(IfNoneMatch("*", e));
  EXPECT_TRUE(IfNoneMatch("\"a\", " + e.substr(2), e)) << "weak comparison ignores W/";
  EXPECT_FALSE(IfNoneMatch("\"a\", \"b\"", e));
  EXPECT_NE(MakeEtag(12, 1700000000, 6), e) << "sub-second changes change the tag";
}

TEST(Range, Parsing) {
  uint64_t off = 0, len = 0;
  EXPECT_EQ(ParseRange("bytes=0-9", 100, &off, &len), RangeResult::kPartial);
  EXPECT_EQ(off, 0u);
  EXPECT_EQ(len, 10u);
  EXPECT_EQ(ParseRange("bytes=90-", 100, &off, &len), RangeResult::kPartial);
  EXPECT_EQ(len, 10u);
  EXPECT_EQ(ParseRange("bytes=-30", 100, &off, &len), RangeResult::kPartial);
  EXPECT_EQ(off, 70u);
  EXPECT_EQ(ParseRange("bytes=-300", 100, &off, &len), RangeResult::kPartial);
  EXPECT_EQ(off, 0u);
  EXPECT_EQ(len, 100u);
  EXPECT_EQ(ParseRange("bytes=50-500", 100, &off, &len), RangeResult::kPartial);
  EXPECT_EQ(len, 50u);
  EXPECT_EQ(ParseRange("bytes=100-", 100, &off, &len), RangeResult::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 100, &off, &len), RangeResult::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-0", 0, &off, &len), RangeResult::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=5-1", 100, &off, &len), RangeResult::kFull);
  EXPECT_EQ(ParseRange("bytes=0-1,3-4", 100, &off, &len), RangeResult::kFull);
  EXPECT_EQ(ParseRange("items=0-1", 100, &off, &len), RangeResult::kFull);
  EXPECT_EQ(ParseRange("bytes=a-b", 100, &off, &len), RangeResult::kFull);
}

TEST(DecideStatic, Conditionals) {
  StaticRequest req;
  StaticDecision d = DecideStatic(req, 100, 1700000000, 0);
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.length, 100u);
  std::string etag = d.etag;
  req.has_if_none_match = true;
  req.if_none_match = etag;
  EXPECT_EQ(DecideStatic(req, 100, 1700000000, 0).status, 304);
  req.if_none_match = "\"other\"";
  req.has_if_modified_since = true;
  req.if_modified_since = "Tue, 14 Nov 2023 22:13:20 GMT";  // == mtime
  EXPECT_EQ(DecideStatic(req, 100, 1700000000, 0).status, 200) << "If-None-Match wins";
  req.has_if_none_match = false;
  EXPECT_EQ(DecideStatic(req, 100, 1700000000, 0).status, 304);
  EXPECT_EQ(DecideStatic(req, 100, 1700000001, 0).status, 200);
}

TEST(DecideStatic, Ranges) {
  StaticRequest req;
  req.has_range = true;
  req.range = "bytes=10-19";
  StaticDecision d = DecideStatic(req, 100, 1700000000, 0);
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.offset, 10u);
  EXPECT_EQ(d.length, 10u);
  EXPECT_EQ(d.content_range, "bytes 10-19/100");
  req.range = "bytes=200-";
  d = DecideStatic(req, 100, 1700000000, 0);
  EXPECT_EQ(d.status, 416);
  EXPECT_EQ(d.content_range, "bytes */100");
  req.range = "bytes=10-19";
  req.has_if_range = true;
  req.if_range = "Tue, 14 Nov 2023 22:13:20 GMT";
  EXPECT_EQ(DecideStatic(req, 100, 1700000000, 0).status, 206);
  req.if_range = "Tue, 14 Nov 2023 22:13:21 GMT";
  EXPECT_EQ(DecideStatic(req, 100, 1700000000, 0).status, 200);
  req.if_range = d.etag;
  EXPECT_EQ(DecideStatic(req, 100, 1700000000, 0).status, 200) << "weak ETag never matches If-Range";
}

TEST(Mime, Lookup) {
  MimeTypes mime;
  EXPECT_GT(mime.size(), 100u) << "/etc/mime.types loaded";
  EXPECT_EQ(mime.Lookup("/x/style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime.Lookup("a.PNG"), "image/png");
  EXPECT_EQ(mime.Lookup("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime.Lookup("noext"), "application/octet-stream");
  EXPECT_EQ(mime.Lookup("file."), "application/octet-stream");
  EXPECT_EQ(mime.Lookup("a.unknownext"), "application/octet-stream");
  MimeTypes builtin("/nonexistent/mime.types");
  EXPECT_EQ(builtin.Lookup("a.js"), "application/javascript; charset=utf-8");
}

}  // namespace
}  // namespace ephpm::http
