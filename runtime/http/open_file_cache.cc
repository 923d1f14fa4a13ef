// The per-thread open-file cache (open_file_cache.h).
#include "runtime/http/open_file_cache.h"

#include <errno.h>
#include <fcntl.h>

#include <unordered_map>

namespace ephpm::http {
namespace {

using Clock = std::chrono::steady_clock;

// Entries per I/O thread, each an open descriptor (well below the usual 1024 RLIMIT_NOFILE);
// when full, the cache starts over (descriptors still in use by a response stay open).
constexpr size_t kMaxEntries = 128;

struct Entry {
  std::shared_ptr<const OpenFile> file;
  Clock::time_point checked;
};

bool Same(const OpenFile& f, const struct stat& st) {
  return f.dev == st.st_dev && f.ino == st.st_ino && f.size == static_cast<uint64_t>(st.st_size) &&
         f.mtime_sec == st.st_mtim.tv_sec && f.mtime_nsec == st.st_mtim.tv_nsec;
}

// Reads the whole of a small file into f->bytes when it did not change while being read.
void ReadSmall(OpenFile* f) {
  std::string bytes(f->size, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pread(f->fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
  struct stat st;
  if (fstat(f->fd, &st) != 0 || !Same(*f, st)) return;
  f->bytes = std::move(bytes);
  f->in_memory = true;
}

std::shared_ptr<const OpenFile> Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return nullptr;
  auto f = std::make_shared<OpenFile>();
  f->fd = fd;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;  // ~OpenFile closes it
  f->size = static_cast<uint64_t>(st.st_size);
  f->mtime_sec = st.st_mtim.tv_sec;
  f->mtime_nsec = st.st_mtim.tv_nsec;
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  if (f->size <= kInlineFileMax) ReadSmall(f.get());
  return f;
}

}  // namespace

std::shared_ptr<const OpenFile> OpenStaticFile(const std::string& path) {
  thread_local std::unordered_map<std::string, Entry> cache;
  auto now = Clock::now();
  auto it = cache.find(path);
  if (it != cache.end()) {
    Entry& e = it->second;
    if (now - e.checked < kOpenFileRevalidate) return e.file;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && Same(*e.file, st)) {
      e.checked = now;
      return e.file;
    }
    cache.erase(it);
  }
  std::shared_ptr<const OpenFile> f = Open(path);
  if (!f) return nullptr;
  if (cache.size() >= kMaxEntries) cache.clear();
  cache.emplace(path, Entry{f, now});
  return f;
}

}  // namespace ephpm::http
