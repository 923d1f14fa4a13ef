// Whether a parsed request head can be answered at all: its message framing (RFC 9112 section 6)
// and its Host header (RFC 9112 section 3.2). Pure functions, unit-tested in
// runtime/tests/http/framing_test.cc.
//
// Why it exists: Boost.Beast's parser frames a body only by `chunked` (as the last coding) or by
// Content-Length, and reads anything else as "no body". A `Transfer-Encoding: gzip` request was
// therefore taken as bodiless and the bytes after it were answered as a second request, while a
// front proxy that saw "Transfer-Encoding" had framed them as this request's body: request
// smuggling. The session calls CheckFraming() right after the head is parsed and before any body
// byte is read; every rejection closes the connection, so bytes after a head we refuse are never
// parsed as a request.
#ifndef EPHPM_RUNTIME_HTTP_FRAMING_H_
#define EPHPM_RUNTIME_HTTP_FRAMING_H_

#include <string_view>
#include <vector>

namespace ephpm::http {

// The fields of a request head that decide its framing, as the parser returned them (one entry
// per header line, in arrival order; names already matched case-insensitively).
struct RequestHead {
  unsigned version = 11;  // 10 or 11 (other versions are answered 505 before this check)
  std::vector<std::string_view> transfer_encoding;
  std::vector<std::string_view> content_length;
  std::vector<std::string_view> host;
};

// status 0: the request may be read and answered. Otherwise the status to answer with (400, or
// 501 for a transfer coding we do not implement) and why, for the log; the connection must be
// closed after that answer because the end of this request cannot be known.
struct FramingVerdict {
  int status = 0;
  const char* reason = "";
  bool ok() const { return status == 0; }
};

// Rules, in this order:
//  * Host: exactly one on HTTP/1.1, at most one on HTTP/1.0; its value must be a valid
//    authority without userinfo (ParseHostHeader in request_info.h) or empty.
//  * Transfer-Encoding (all its lines read as one list, empty list elements ignored): not on
//    HTTP/1.0, not together with Content-Length, not empty; its final coding must be `chunked`
//    (RFC 9112 section 6.3) and `chunked` must appear once. Any other coding before it (gzip,
//    identity, ...) is 501: we decode none.
//  * Content-Length (without Transfer-Encoding): every line a list of decimal integers that fit
//    in 64 bits, all of the same value ("5, 5" is 5; "5, 6", "-1", "0x10", "" are 400).
FramingVerdict CheckFraming(const RequestHead& head);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_FRAMING_H_
