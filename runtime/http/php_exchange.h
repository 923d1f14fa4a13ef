// PhpExchange: the channel between the PHP thread and the connection that waits for its answer.
//
// The PHP thread must never touch a socket (a script that bails out longjmps past anything it
// holds, docs/embedding-php.md section 4), and the connection's coroutine must never block. So
// the PHP side (php::ResponseWriter, called on the PHP thread) only stores what PHP produced
// under a mutex and wakes the connection by cancelling a timer posted to the connection's
// io_context; the connection side takes everything new with Take() and writes it
// (Server::Impl::RelayPhpResponse, php_exchange.cc). A streamed response blocks the PHP thread
// while more than kStreamHighWater bytes are not yet written, so a slow client cannot make the
// server buffer an unbounded body.
#ifndef EPHPM_RUNTIME_HTTP_PHP_EXCHANGE_H_
#define EPHPM_RUNTIME_HTTP_PHP_EXCHANGE_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/php/request_sapi.h"

namespace ephpm::http {

// Streaming responses: the PHP thread blocks while this much output is not yet written.
inline constexpr size_t kStreamHighWater = 256 * 1024;

class PhpExchange final : public php::ResponseWriter,
                          public std::enable_shared_from_this<PhpExchange> {
 public:
  explicit PhpExchange(boost::asio::io_context& ioc);

  // php::ResponseWriter, on the PHP thread (Cancel: any thread).
  void Complete(int status, std::vector<std::string> lines, std::string body) override;
  bool StartStreaming(int status, std::vector<std::string> lines) override;
  bool StreamChunk(std::string_view data) override;
  void EndStream(bool ok) override;
  bool ClientGone() override;
  void Cancel() override { MarkGone(); }

  struct Events {
    bool complete = false;      // buffered response ready: status, lines, data = body
    bool start_stream = false;  // streaming headers ready: status, lines
    bool finished = false;
    bool ok = true;
    int status = 200;
    std::vector<std::string> lines;
    std::string data;  // body (complete) or the next chunk (streaming)
    bool any() const { return complete || start_stream || finished || !data.empty(); }
  };

  // Connection side: everything new since the last call.
  Events Take();
  // Connection side: the client is gone; the script's next write returns false.
  void MarkGone();
  // Cancelled (on the connection's io_context) whenever there is something new to Take().
  boost::asio::steady_timer& signal() { return signal_; }

 private:
  void NotifyLocked();

  boost::asio::io_context& ioc_;
  boost::asio::steady_timer signal_;  // used only on the connection's thread
  std::mutex mu_;
  std::condition_variable drained_;
  bool notify_pending_ = false;
  int status_ = 200;
  std::vector<std::string> lines_;
  std::string body_;
  bool complete_ = false;
  bool streaming_ = false;
  bool finished_ = false;
  bool stream_ok_ = true;
  bool taken_headers_ = false;
  bool finished_taken_ = false;
  bool gone_ = false;
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_PHP_EXCHANGE_H_
