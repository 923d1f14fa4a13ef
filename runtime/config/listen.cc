// The listen address syntax ("host:port", "[v6]:port") shared by [server] listen and
// `serve --listen`. Only the syntax and the port range: whether the host resolves or the port is
// free is found out when the listener opens.
#include <cctype>

#include "runtime/config/config.h"
#include "runtime/config/files.h"

namespace ephpm::config {

bool ParseListenAddress(std::string_view text, ListenAddress* out, std::string* reason) {
  std::string_view host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      *reason = "invalid address " + Quote(text) + " (expected [ipv6]:port)";
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      *reason = "invalid address " + Quote(text) +
                " (expected host:port, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) {
    *reason = "invalid address " + Quote(text) +
              ": missing host (use 0.0.0.0 for all interfaces)";
    return false;
  }
  for (char c : host) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '%' ||
          c == '_')) {
      *reason = "invalid host in " + Quote(text);
      return false;
    }
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoul(std::string(port)) > 65535) {
    *reason = "invalid port in " + Quote(text) + " (expected 0..65535)";
    return false;
  }
  out->host = std::string(host);
  out->port = static_cast<uint16_t>(std::stoul(std::string(port)));
  return true;
}

bool ApplyListenOverride(const std::string& listen, Config* config, std::string* error) {
  std::string why;
  if (!ParseListenAddress(listen, &config->server.listen_address, &why)) {
    *error = "--listen: " + why;
    return false;
  }
  config->server.listen = listen;
  return true;
}

}  // namespace ephpm::config
