// FileRangeBody: the Beast body a static file is sent with.
//
// It streams [offset, offset + size) of an already open file (open_file_cache.h): from the
// cache's copy when the file is small enough to be kept in memory, else with pread in 64 KiB
// pieces, so a range of a file goes out without being read into memory, and the file stays
// the one that was opened and checked (router.h containment) even if the name changes meanwhile.
// Large bodies bypass it: ServeStatic sends them with sendfile(2) after the head.
// The read buffers are recycled per I/O thread: a writer lives and dies on its connection's
// thread, so serving a file does not malloc/free 64 KiB each time.
#ifndef EPHPM_RUNTIME_HTTP_FILE_BODY_H_
#define EPHPM_RUNTIME_HTTP_FILE_BODY_H_

#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "runtime/http/open_file_cache.h"

namespace ephpm::http {

struct FileRangeBody {
  struct value_type {
    std::shared_ptr<const OpenFile> file;  // shared with the open-file cache
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  static uint64_t size(const value_type& v) { return v.size; }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    ~writer() { ReleaseBuffer(buf_); }

    void init(boost::beast::error_code& ec) {
      pos_ = body_.offset;
      remain_ = body_.size;
      ec = {};
    }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      if (remain_ == 0) {
        ec = {};
        return boost::none;
      }
      if (body_.file->in_memory) {  // the whole range in one buffer, no system call
        const char* at = body_.file->bytes.data() + pos_;
        size_t n = static_cast<size_t>(remain_);
        remain_ = 0;
        ec = {};
        return {{const_buffers_type(at, n), false}};
      }
      if (buf_ == nullptr) buf_ = AcquireBuffer();
      size_t want = remain_ < kChunk ? static_cast<size_t>(remain_) : kChunk;
      ssize_t n = pread(body_.file->fd, buf_, want, static_cast<off_t>(pos_));
      if (n <= 0) {
        ec = n < 0 ? boost::beast::error_code(errno, boost::beast::system_category())
                   : boost::beast::error_code(boost::asio::error::eof);
        return boost::none;
      }
      pos_ += static_cast<uint64_t>(n);
      remain_ -= static_cast<uint64_t>(n);
      ec = {};
      return {{const_buffers_type(buf_, static_cast<size_t>(n)), remain_ > 0}};
    }

   private:
    static constexpr size_t kChunk = 64 * 1024;
    static constexpr size_t kPoolSize = 64;

    static std::vector<std::unique_ptr<char[]>>& Pool() {
      thread_local std::vector<std::unique_ptr<char[]>> pool;
      return pool;
    }
    static char* AcquireBuffer() {
      auto& pool = Pool();
      if (pool.empty()) return new char[kChunk];
      char* b = pool.back().release();
      pool.pop_back();
      return b;
    }
    static void ReleaseBuffer(char* b) {
      if (b == nullptr) return;
      auto& pool = Pool();
      if (pool.size() < kPoolSize) {
        pool.emplace_back(b);
      } else {
        delete[] b;
      }
    }

    value_type& body_;
    uint64_t pos_ = 0;
    uint64_t remain_ = 0;
    char* buf_ = nullptr;
  };
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_FILE_BODY_H_
