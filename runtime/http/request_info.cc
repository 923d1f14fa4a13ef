#include "runtime/http/request_info.h"

#include <arpa/inet.h>
#include <strings.h>

#include <cstring>

#include "runtime/ascii.h"
#include "runtime/http/router.h"

namespace ephpm::http {
namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// reg-name = *( unreserved / pct-encoded / sub-delims ), RFC 3986 section 3.2.2.
bool IsRegName(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    if (c != '\0' && std::strchr("-._~!$&'()*+,;=", c) != nullptr) continue;
    if (c == '%' && i + 2 < s.size() && IsHexDigit(s[i + 1]) && IsHexDigit(s[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

// The inside of an IP-literal: an IPv6 address as inet_pton reads it (no zone identifier).
bool IsIpv6(std::string_view s) {
  char text[INET6_ADDRSTRLEN];
  if (s.empty() || s.size() >= sizeof text) return false;
  std::memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  in6_addr addr;
  return inet_pton(AF_INET6, text, &addr) == 1;
}

// port = 1 to 5 digits, value <= 65535. "" (a bare ':') is accepted as "no port".
bool ParsePort(std::string_view s, std::optional<uint16_t>* out) {
  if (s.empty()) {
    out->reset();
    return true;
  }
  if (s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

bool ParseHostHeader(std::string_view value, HostHeader* out) {
  HostHeader parsed;
  if (value.empty()) {
    *out = parsed;
    return true;
  }
  std::string_view rest;
  if (value.front() == '[') {
    size_t close = value.find(']');
    if (close == std::string_view::npos || !IsIpv6(value.substr(1, close - 1))) return false;
    parsed.host = value.substr(0, close + 1);
    rest = value.substr(close + 1);
  } else {
    size_t colon = value.find(':');
    parsed.host = value.substr(0, colon);
    if (parsed.host.empty() || !IsRegName(parsed.host)) return false;
    if (colon != std::string_view::npos) rest = value.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || !ParsePort(rest.substr(1), &parsed.port)) return false;
  }
  *out = parsed;
  return true;
}

php::RequestInfo BuildRequestInfo(RequestSource source, const Route& route) {
  php::RequestInfo info;
  info.method = std::string(source.method);
  info.request_uri = std::string(source.target);
  info.query_string = std::string(source.query);
  info.protocol = source.version == 10 ? "HTTP/1.0" : "HTTP/1.1";
  info.proto_num = source.version == 10 ? 1000 : 1001;
  info.script_filename = route.file;
  info.script_name = route.script_name;
  info.path_info = route.path_info;
  info.document_root = std::string(source.document_root);
  info.server_addr = std::string(source.local_addr);
  info.remote_addr = std::string(source.remote_addr);
  info.remote_port = std::to_string(source.remote_port);

  HostHeader host;
  bool from_host = false;
  for (const auto& [name, value] : source.headers) {
    if (AsciiIEquals(name, "host")) {
      from_host = ParseHostHeader(value, &host) && !host.host.empty();
      break;
    }
  }
  if (from_host) {
    info.server_name = std::string(host.host);
    info.server_port = std::to_string(host.port.value_or(source.local_port));
  } else {
    bool v6 = source.local_addr.find(':') != std::string_view::npos;
    info.server_name = v6 ? "[" + info.server_addr + "]" : info.server_addr;
    info.server_port = std::to_string(source.local_port);
  }

  info.headers = std::move(source.headers);
  info.has_body = source.has_body;
  info.body = std::move(source.body);
  info.request_time = source.request_time;
  return info;
}

}  // namespace ephpm::http
