// Header rules every response of the server shares, whoever produced it (the session's own
// errors and redirects, static files, PHP): the Date/Server/Connection headers, the reason
// phrases of the statuses the server itself sends, and which of PHP's header lines may reach
// the client. Framing headers (Content-Length, Transfer-Encoding, Connection, Keep-Alive) and
// Date are the server's: a script cannot set them, so it cannot desynchronise the connection.
#ifndef EPHPM_RUNTIME_HTTP_RESPONSE_HEADERS_H_
#define EPHPM_RUNTIME_HTTP_RESPONSE_HEADERS_H_

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/ascii.h"

namespace ephpm::http {

// The Date header's value for this second (cached per thread).
const std::string& CachedDate();
bool IsToken(std::string_view s);                      // RFC 9110 token
const char* ReasonFor(int status);

template <class Body>
void CommonHeaders(boost::beast::http::response<Body>& res, bool keep_alive) {
  res.set(boost::beast::http::field::date, CachedDate());
  res.set(boost::beast::http::field::server, "ephpm");
  res.keep_alive(keep_alive);
  if (!keep_alive) res.set(boost::beast::http::field::connection, "close");  // Beast omits it on 1.0
}

// Splits PHP's "Name: value" lines into the response, dropping framing headers we own.
template <class Fields>
void ApplyPhpHeaders(Fields& fields, const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string_view name(line.data(), colon);
    std::string_view value(line.data() + colon + 1, line.size() - colon - 1);
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!value.empty() && blank(value.front())) value.remove_prefix(1);
    while (!value.empty() && blank(value.back())) value.remove_suffix(1);
    if (!IsToken(name) || value.find_first_of("\r\n") != std::string_view::npos) continue;
    if (AsciiIEquals(name, "content-length") || AsciiIEquals(name, "transfer-encoding") ||
        AsciiIEquals(name, "connection") || AsciiIEquals(name, "keep-alive") || AsciiIEquals(name, "date")) {
      continue;
    }
    fields.insert(boost::beast::string_view(name.data(), name.size()),
                  boost::beast::string_view(value.data(), value.size()));
  }
}

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_RESPONSE_HEADERS_H_
