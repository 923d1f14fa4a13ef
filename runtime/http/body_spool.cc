// SpoolBody (body_spool.h): the memory count and the temp-file spill.
#include "runtime/http/body_spool.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace ephpm::http {
namespace {

std::atomic<uint64_t> g_buffered{0};

bool TakeBuffered(uint64_t n, uint64_t max) {
  uint64_t cur = g_buffered.load(std::memory_order_relaxed);
  do {
    if (n > max || cur > max - n) return false;
  } while (!g_buffered.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
  return true;
}

// Owned by RequestBody::hold: the spill file and the bytes counted in g_buffered.
struct SpoolState {
  uint64_t buffer_size = 64 << 10;
  uint64_t max_buffered = 64ull << 20;
  uint64_t counted = 0;
  bool to_file = false;  // the Content-Length is above buffer_size: skip the memory stage
  int fd = -1;
  ~SpoolState() {
    g_buffered.fetch_sub(counted, std::memory_order_relaxed);
    if (fd >= 0) close(fd);
  }
};

SpoolState* State(php::RequestBody& body) {
  if (!body.hold) body.hold = std::make_shared<SpoolState>();
  return static_cast<SpoolState*>(body.hold.get());
}

// An anonymous file in $TMPDIR (or /tmp): nothing to clean up if the process dies.
int OpenTempFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string d = dir != nullptr && *dir != '\0' ? dir : "/tmp";
  int fd = open(d.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string name = d + "/ephpm-body-XXXXXX";
  fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0) unlink(name.c_str());
  return fd;
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

uint64_t BufferedBodyBytes() { return g_buffered.load(std::memory_order_relaxed); }

bool SpoolBody::Prepare(value_type& body, uint64_t buffer_size, uint64_t max_buffered,
                        const boost::optional<uint64_t>& content_length) {
  SpoolState* s = State(body);
  s->buffer_size = buffer_size;
  s->max_buffered = max_buffered;
  if (!content_length || *content_length == 0) return true;
  if (*content_length > buffer_size) {
    s->to_file = true;
    return true;
  }
  if (!TakeBuffered(*content_length, max_buffered)) return false;
  s->counted = *content_length;
  body.memory.reserve(static_cast<size_t>(*content_length));
  return true;
}

boost::beast::error_code SpoolBody::OverBudget() {
  return boost::system::errc::make_error_code(boost::system::errc::no_buffer_space);
}

boost::beast::error_code SpoolBody::SpoolFailed() {
  return boost::system::errc::make_error_code(boost::system::errc::io_error);
}

void SpoolBody::reader::init(const boost::optional<uint64_t>&, boost::beast::error_code& ec) {
  State(body_);
  ec = {};
}

void SpoolBody::reader::Append(const char* data, size_t n, boost::beast::error_code& ec) {
  ec = {};
  SpoolState* s = State(body_);
  if (s->fd < 0) {
    uint64_t need = body_.memory.size() + n;
    if (need <= s->buffer_size && !s->to_file) {
      if (need > s->counted) {
        if (!TakeBuffered(need - s->counted, s->max_buffered)) {
          ec = OverBudget();
          return;
        }
        s->counted = need;
      }
      body_.memory.append(data, n);
      return;
    }
    // Past body_buffer_size: move what we have to a temp file and give its memory back.
    s->fd = OpenTempFile();
    if (s->fd < 0 || !WriteAll(s->fd, body_.memory.data(), body_.memory.size())) {
      spdlog::error("request body: cannot write a temp file in $TMPDIR or /tmp: {}",
                    strerror(errno));
      ec = SpoolFailed();
      return;
    }
    body_.fd = s->fd;
    body_.file_size = body_.memory.size();
    std::string().swap(body_.memory);
    g_buffered.fetch_sub(s->counted, std::memory_order_relaxed);
    s->counted = 0;
  }
  if (!WriteAll(s->fd, data, n)) {
    spdlog::error("request body: writing the temp file failed: {}", strerror(errno));
    ec = SpoolFailed();
    return;
  }
  body_.file_size += n;
}

}  // namespace ephpm::http
