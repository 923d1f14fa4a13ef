// SpoolBody: the Beast body a request body is read into, and the process-wide count of request
// body bytes held in memory (issue: slow clients must not make the workers hold bodies without
// bound).
//
// Like nginx's client_body_buffer_size: a body up to [server.request] body_buffer_size stays in
// memory; a larger one (a Content-Length above it, or a chunked body that grows past it) goes to
// an unlinked temp file in $TMPDIR (O_TMPFILE, else mkstemp + unlink) while it is read, and PHP
// reads it from there (php::RequestBody). Bytes in memory are counted against
// [server.request] max_buffered_bodies across all connections of the process; a body that would
// go beyond it is refused with kOverBudget and the session answers 503 + Retry-After. The count
// is given back when the php::RequestBody (its `hold`) is destroyed, i.e. when the request ends.
#ifndef EPHPM_RUNTIME_HTTP_BODY_SPOOL_H_
#define EPHPM_RUNTIME_HTTP_BODY_SPOOL_H_

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>

#include "runtime/php/request_sapi.h"

namespace ephpm::http {

// Bytes of request bodies currently held in memory by this process.
uint64_t BufferedBodyBytes();

struct SpoolBody {
  using value_type = php::RequestBody;

  // Sets the limits for the body about to be read. With a known `content_length` that fits in
  // memory, its bytes are counted now; false when that would exceed `max_buffered` (answer 503
  // before reading the body).
  static bool Prepare(value_type& body, uint64_t buffer_size, uint64_t max_buffered,
                      const boost::optional<uint64_t>& content_length);

  // kOverBudget (503) and kSpoolFailed (500) are the errors put() may return.
  static boost::beast::error_code OverBudget();
  static boost::beast::error_code SpoolFailed();

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<uint64_t>& content_length, boost::beast::error_code& ec);
    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      size_t total = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        Append(static_cast<const char*>(b.data()), b.size(), ec);
        if (ec) return total;
        total += b.size();
      }
      return total;
    }
    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    void Append(const char* data, size_t n, boost::beast::error_code& ec);
    value_type& body_;
  };
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_BODY_SPOOL_H_
