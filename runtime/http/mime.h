// MIME types for static files, from /etc/mime.types (Debian package media-types).
#ifndef EPHPM_RUNTIME_HTTP_MIME_H_
#define EPHPM_RUNTIME_HTTP_MIME_H_

#include <string>
#include <string_view>
#include <unordered_map>

namespace ephpm::http {

class MimeTypes {
 public:
  // Loads the file; a missing file leaves a small built-in table.
  explicit MimeTypes(const std::string& path = "/etc/mime.types");
  // By extension of the file name (ASCII case-insensitive); application/octet-stream otherwise.
  // text/* types and a few textual application types get "; charset=utf-8".
  const std::string& Lookup(std::string_view file_name) const;
  size_t size() const { return by_ext_.size(); }

 private:
  std::unordered_map<std::string, std::string> by_ext_;
  std::string default_ = "application/octet-stream";
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_MIME_H_
