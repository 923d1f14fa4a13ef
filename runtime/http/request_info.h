// What PHP is told about an HTTP request: the php::RequestInfo that $_SERVER and
// SG(request_info) are built from (docs/embedding-php.md section 13), and the Host header rules
// that SERVER_NAME/SERVER_PORT come from. Pure functions, unit-tested in
// runtime/tests/http/request_info_test.cc; the session gathers the inputs from the socket and the
// parser (no Beast or Asio types here).
#ifndef EPHPM_RUNTIME_HTTP_REQUEST_INFO_H_
#define EPHPM_RUNTIME_HTTP_REQUEST_INFO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/php/request_sapi.h"

namespace ephpm::http {

struct Route;

// A Host header value split per RFC 9112 section 3.2 / RFC 3986 section 3.2.2:
// uri-host [ ":" port ], where uri-host is a reg-name (unreserved, pct-encoded and sub-delims
// characters; this covers IPv4 addresses) or a bracketed IPv6 address, and port is 1 to 5 digits
// with a value up to 65535. No userinfo ("user@host"), whitespace or control bytes; no IPvFuture
// or zone identifiers. "" is valid (HTTP/1.1 allows an empty Host): host "" and no port.
struct HostHeader {
  std::string_view host;         // as received; an IPv6 address keeps its brackets
  std::optional<uint16_t> port;  // nullopt without a port or with an empty one ("host:")
};
bool ParseHostHeader(std::string_view value, HostHeader* out);

// Everything the session knows about one PHP request, besides its route.
struct RequestSource {
  std::string_view method;
  std::string_view target;  // the raw request-target (REQUEST_URI)
  std::string_view query;   // its raw query, without '?'
  unsigned version = 11;    // 10 or 11
  std::string_view document_root;
  std::string_view local_addr;  // the socket's local address, e.g. "127.0.0.1" or "::1"
  uint16_t local_port = 0;
  std::string_view remote_addr;
  uint16_t remote_port = 0;
  // Header lines in arrival order, names as received, duplicates kept.
  std::vector<std::pair<std::string, std::string>> headers;
  bool has_body = false;  // Content-Length or chunked framing, even when empty
  php::RequestBody body;
  double request_time = 0;  // seconds since the epoch
};

// SERVER_NAME/SERVER_PORT come from Host when it is present and not empty (an empty or missing
// port means the local port); otherwise from the local address (IPv6 bracketed) and port. A Host
// that fails ParseHostHeader is treated as absent (CheckFraming refuses such requests first).
php::RequestInfo BuildRequestInfo(RequestSource source, const Route& route);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_REQUEST_INFO_H_
