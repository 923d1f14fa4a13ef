// OpenFile and the per-I/O-thread cache of open static files (like nginx's open_file_cache).
//
// Serving a static file used to cost open, fstat and close on every request. An I/O thread now
// keeps the descriptor and metadata of the files it served recently and reuses them without a
// system call while they were checked less than kOpenFileRevalidate ago; after that one stat of
// the path revalidates the entry (same device, inode, size and mtime) or replaces it. So a file
// replaced or changed on disk is served as it was for at most kOpenFileRevalidate (1 s); a file
// rewritten in place within that second is read as it is now with the length it had (the
// response is then cut short and its connection closed), which is what nginx's cache does too.
// Containment is unchanged: the router resolves and checks the path on every request, and the
// cache is keyed by the resolved path.
//
// A file of at most kInlineFileMax bytes is also read once, when it is opened, and answered from
// memory (no pread per request: a small file costs the request's read and one write). Its bytes
// are kept only when fstat said the same before and after the read, so they match the ETag and
// Last-Modified they are sent with. At most kMaxEntries × kInlineFileMax (4 MiB) per I/O thread.
#ifndef EPHPM_RUNTIME_HTTP_OPEN_FILE_CACHE_H_
#define EPHPM_RUNTIME_HTTP_OPEN_FILE_CACHE_H_

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace ephpm::http {

inline constexpr auto kOpenFileRevalidate = std::chrono::seconds(1);
inline constexpr uint64_t kInlineFileMax = 32 * 1024;

// An open regular file and what fstat said about it when it was opened.
struct OpenFile {
  int fd = -1;
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  long mtime_nsec = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  bool in_memory = false;  // `bytes` holds the whole file (size <= kInlineFileMax)
  std::string bytes;
  OpenFile() = default;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

// The calling I/O thread's cached OpenFile for `path` (opened O_NOFOLLOW), or nullptr when it is
// not a readable regular file. The file stays open while a response holds it, even after the
// cache dropped it.
std::shared_ptr<const OpenFile> OpenStaticFile(const std::string& path);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_OPEN_FILE_CACHE_H_
