#include "runtime/resp/server.h"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include "runtime/resp/commands.h"
#include "runtime/resp/protocol.h"

namespace ephpm::resp {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t kReadChunk = 16 * 1024;
// Replies gathered from one pipelined batch before they are written out (and input parsing
// pauses until the write is done).
constexpr size_t kMaxPendingOutput = 1 << 20;

struct Limits {
  size_t max_input_buffer;
  std::chrono::seconds idle_timeout;  // 0 = none
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ServerState* state, Limits limits)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), state_(state),
        limits_(limits) {
    ++state_->connections;
    session_.id = ++state_->total_connections;
    session_.authenticated = state_->password.empty();
  }
  ~Connection() { --state_->connections; }

  void Start() {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    last_activity_ = std::chrono::steady_clock::now();
    if (limits_.idle_timeout.count() != 0) WatchIdle(last_activity_ + limits_.idle_timeout);
    Read();
  }

 private:
  // One timer per connection that wakes once per idle period and re-arms itself from the last
  // activity, rather than a timer re-armed on every read and write (a timerfd update each time).
  void WatchIdle(std::chrono::steady_clock::time_point deadline) {
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || !self->socket_.is_open()) return;
      auto next = self->last_activity_ + self->limits_.idle_timeout;
      if (next <= std::chrono::steady_clock::now()) return self->Close();
      self->WatchIdle(next);
    });
  }

  void Read() {
    size_t old = input_.size();
    input_.resize(old + kReadChunk);
    socket_.async_read_some(
        asio::buffer(input_.data() + old, kReadChunk),
        [self = shared_from_this(), old](boost::system::error_code ec, size_t n) {
          self->input_.resize(old + (ec ? 0 : n));
          if (ec) return self->Close();
          self->last_activity_ = std::chrono::steady_clock::now();
          self->Process();
        });
  }

  // Runs every complete command in the input, then writes the replies or reads more.
  void Process() {
    size_t start = 0;
    bool fatal = false;
    while (!session_.close_after_reply && output_.size() < kMaxPendingOutput) {
      size_t consumed = 0;
      std::string error;
      ParseStatus st = ParseCommand(std::string_view(input_).substr(start),
                                    limits_.max_input_buffer, &args_, &consumed, &error);
      if (st == ParseStatus::kIncomplete) {
        if (input_.size() - start > limits_.max_input_buffer + kMaxInlineBytes) {
          AppendError(&output_, "ERR Protocol error: command larger than max_input_buffer (" +
                                    std::to_string(limits_.max_input_buffer) + " bytes)");
          fatal = true;
        }
        break;
      }
      if (st == ParseStatus::kError) {
        AppendError(&output_, "ERR " + error);
        fatal = true;
        break;
      }
      if (!args_.empty()) Execute(state_, &session_, args_, &output_);
      start += consumed;
    }
    input_.erase(0, start);
    if (fatal) session_.close_after_reply = true;
    if (!output_.empty()) return Write();
    if (session_.close_after_reply) return Close();
    Read();
  }

  void Write() {
    writing_.swap(output_);
    output_.clear();
    // A client that stops reading its replies makes no activity either: the idle timer ends it.
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->last_activity_ = std::chrono::steady_clock::now();
                        self->writing_.clear();
                        if (ec || self->session_.close_after_reply) return self->Close();
                        self->Process();  // commands may be waiting in the input already
                      });
  }

  void Close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  ServerState* state_;
  Limits limits_;
  Session session_;
  std::chrono::steady_clock::time_point last_activity_;
  std::string input_, output_, writing_;
  Args args_;
};

}  // namespace

struct Server::Impl {
  Impl(asio::io_context& io, int fd, const config::RedisCompatConfig& cfg, kv::Store* store)
      : acceptor(io), limits{cfg.max_input_buffer, std::chrono::seconds(cfg.idle_timeout_secs)} {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    acceptor.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd);
    state.store = store;
    state.password = cfg.password;
    state.max_connections = cfg.max_connections;
    state.port = acceptor.local_endpoint().port();
  }

  void Accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (state.max_connections != 0 && state.connections >= state.max_connections) {
          static const char kFull[] = "-ERR max number of clients reached\r\n";
          boost::system::error_code ignored;
          socket.non_blocking(true, ignored);
          socket.write_some(asio::buffer(kFull, sizeof kFull - 1), ignored);
          socket.close(ignored);
        } else {
          std::make_shared<Connection>(std::move(socket), &state, limits)->Start();
        }
      } else if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        spdlog::warn("redis_compat: accept: {}", ec.message());
      }
      Accept();
    });
  }

  tcp::acceptor acceptor;
  Limits limits;
  ServerState state;
};

Server::Server(asio::io_context& io, int listen_fd, const config::RedisCompatConfig& config,
               kv::Store* store)
    : impl_(std::make_unique<Impl>(io, listen_fd, config, store)) {}

Server::~Server() = default;

void Server::Start() { impl_->Accept(); }

}  // namespace ephpm::resp
