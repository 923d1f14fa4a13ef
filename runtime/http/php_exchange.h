// PhpExchange: the channel between the PHP thread and the connection that waits for its answer.
//
// The PHP thread must never touch a socket (a script that bails out longjmps past anything it
// holds, docs/embedding-php.md section 4), and the connection's coroutine must never block. So
// the PHP side (php::ResponseWriter, called on the PHP thread) only stores what PHP produced
// under a mutex and wakes the connection by cancelling a timer posted to the connection's
// io_context; the connection side takes everything new with Take() and writes it
// (RelayPhpResponse, php_exchange.cc).
//
// A slow client must not hold the PHP thread (issue 17.6): what a streaming script writes is
// kept in memory up to kResponseMemory, then appended to an anonymous temp file (O_TMPFILE, as
// nginx does with fastcgi_buffers and its temp files), so the script runs to its end at its own
// speed and the PHP thread serves the next request while the I/O thread feeds the client. Only
// when a client is kResponseSpillMax behind (or no temp file can be made: then kStreamHighWater
// in memory) does the script wait for it, so one response cannot fill the disk.
#ifndef EPHPM_RUNTIME_HTTP_PHP_EXCHANGE_H_
#define EPHPM_RUNTIME_HTTP_PHP_EXCHANGE_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/php/request_sapi.h"

namespace ephpm::http {

// Unsent output of one streaming response kept in memory; beyond it, a temp file.
inline constexpr size_t kResponseMemory = 1 << 20;
// Unsent output in the temp file at which the script waits for its client.
inline constexpr uint64_t kResponseSpillMax = 128ull << 20;
// Without a temp file: the unsent output in memory at which the script waits.
inline constexpr size_t kStreamHighWater = 256 * 1024;

class PhpExchange final : public php::ResponseWriter,
                          public std::enable_shared_from_this<PhpExchange> {
 public:
  explicit PhpExchange(boost::asio::io_context& ioc);
  ~PhpExchange() override;
  PhpExchange(const PhpExchange&) = delete;
  PhpExchange& operator=(const PhpExchange&) = delete;

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

  // Connection side, before the job is queued: counts this exchange in `busy` until the script
  // has produced its whole response (Complete or EndStream) or the exchange ends unanswered.
  // Dispatch (dispatch.cc) reads it as "this process's PHP thread is taken": counting up to the
  // response, not to the end of the PHP request, keeps a client that has its answer from
  // seeing its next request moved away while PHP merely shuts the last one down.
  void CountAsBusy(std::atomic<int>* busy);

  // Connection side: everything new since the last call.
  Events Take();
  // Connection side: the client is gone; the script's next write returns false.
  void MarkGone();
  // Cancelled (on the connection's io_context) whenever there is something new to Take().
  boost::asio::steady_timer& signal() { return signal_; }

 private:
  void NotifyLocked();
  void ReleaseBusyLocked();
  // Appends the script's output: to memory while nothing waits in the temp file and memory has
  // room, else to the temp file. false: the output cannot be kept (the stream is broken).
  bool AppendLocked(std::string_view data);
  bool SpillLocked(std::string_view data);
  // Moves the next unsent piece of output into *out: memory first (it is always older than
  // what waits in the file), then the file.
  void TakeOutputLocked(std::string* out);

  boost::asio::io_context& ioc_;
  boost::asio::steady_timer signal_;  // used only on the connection's thread
  std::mutex mu_;
  std::condition_variable drained_;
  bool notify_pending_ = false;
  int status_ = 200;
  std::vector<std::string> lines_;
  std::string body_;  // complete body, or the unsent output in memory
  int spill_fd_ = -1;  // temp file of unsent output: [spill_read_, spill_write_)
  bool spill_failed_ = false;
  uint64_t spill_read_ = 0;
  uint64_t spill_write_ = 0;
  bool complete_ = false;
  bool streaming_ = false;
  bool finished_ = false;
  bool stream_ok_ = true;
  bool taken_headers_ = false;
  bool finished_taken_ = false;
  bool gone_ = false;
  std::atomic<int>* busy_ = nullptr;  // CountAsBusy(); null once released
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_PHP_EXCHANGE_H_
