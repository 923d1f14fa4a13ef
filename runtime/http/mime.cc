#include "runtime/http/mime.h"

#include <fstream>
#include <sstream>

namespace ephpm::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string WithCharset(const std::string& type) {
  if (type.rfind("text/", 0) == 0 || type == "application/javascript" ||
      type == "application/json" || type == "application/xml" || type == "image/svg+xml") {
    return type + "; charset=utf-8";
  }
  return type;
}

}  // namespace

MimeTypes::MimeTypes(const std::string& path) {
  static const char* kBuiltin[][2] = {
      {"html", "text/html"}, {"htm", "text/html"},       {"css", "text/css"},
      {"js", "application/javascript"}, {"json", "application/json"},
      {"txt", "text/plain"}, {"png", "image/png"},        {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"}, {"gif", "image/gif"},       {"svg", "image/svg+xml"},
      {"ico", "image/vnd.microsoft.icon"}, {"woff2", "font/woff2"}, {"wasm", "application/wasm"},
  };
  for (auto& [ext, type] : kBuiltin) by_ext_[ext] = WithCharset(type);
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string type, ext;
    if (!(fields >> type)) continue;
    std::string full = WithCharset(type);
    while (fields >> ext) by_ext_[Lower(ext)] = full;
  }
  // mime.types maps .js to text/javascript on some releases; both are fine for browsers.
}

const std::string& MimeTypes::Lookup(std::string_view file_name) const {
  size_t slash = file_name.rfind('/');
  if (slash != std::string_view::npos) file_name = file_name.substr(slash + 1);
  size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == file_name.size()) return default_;
  auto it = by_ext_.find(Lower(file_name.substr(dot + 1)));
  return it == by_ext_.end() ? default_ : it->second;
}

}  // namespace ephpm::http
