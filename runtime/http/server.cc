// The Server's public side (server.h): its I/O threads, and how it stops: stop accepting,
// drain the connections, stop the threads. The connection logic is in session.cc, the accept
// loop in accept.cc, PHP requests in php_exchange.cc.
#include "runtime/http/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "runtime/http/server_impl.h"

namespace ephpm::http {

Server::Server(const config::Config& config, Router* router, const MimeTypes* mime,
               JobQueue* queue, AccessLog* access_log)
    : impl_(std::make_unique<Impl>(this, config, router, mime, queue, access_log)) {}

Server::~Server() { Stop(); }

void Server::Start(int listen_fd) {
  int n = impl_->cfg.server.io_threads;
  if (n <= 0) n = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  for (int i = 0; i < n; ++i) {
    impl_->iocs.push_back(std::make_unique<asio::io_context>(1));
    impl_->guards.push_back(asio::make_work_guard(*impl_->iocs.back()));
  }
  impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->iocs[0]);
  if (impl_->balance_poll.count() > 0) {
    impl_->gate = std::make_unique<asio::steady_timer>(*impl_->iocs[0]);
    impl_->watch = std::make_unique<asio::steady_timer>(*impl_->iocs[0]);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
  impl_->acceptor->assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listen_fd);
  if (impl_->handoff != nullptr) {  // a dup: closing it at the drain leaves the slot's socket
    impl_->handoff_in = std::make_unique<asio::posix::stream_descriptor>(
        *impl_->iocs[0], ::dup(impl_->handoff->receive_fd()));
  }
  for (int i = 0; i < n; ++i) {
    asio::io_context* ioc = impl_->iocs[i].get();
    impl_->threads.emplace_back([ioc, i] {
      std::string name = "ephpm-io-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("I/O thread: {}", e.what());
        }
      }
    });
  }
}

void Server::StartAccepting() {
  asio::co_spawn(*impl_->iocs[0], impl_->Accept(), asio::detached);
  if (impl_->handoff_in) asio::co_spawn(*impl_->iocs[0], impl_->ReceiveHandoffs(), asio::detached);
}

void Server::StopAccepting() {
  impl_->stopping = true;
  if (impl_->iocs.empty()) return;
  std::promise<void> done;
  asio::post(*impl_->iocs[0], [this, &done] {
    beast::error_code ec;
    if (impl_->gate) impl_->gate->cancel();
    if (impl_->watch) impl_->watch->cancel();
    if (impl_->acceptor) impl_->acceptor->close(ec);
    done.set_value();
  });
  done.get_future().wait();
}

bool Server::Drain(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(impl_->sessions_mu);
      for (const auto& ctl : impl_->sessions) {
        asio::post(*ctl->ioc, [ctl] {
          if (ctl->stream != nullptr && ctl->idle &&
              std::chrono::steady_clock::now() - ctl->idle_since >= kDrainIdleGrace) {
            ctl->closing = true;
            ctl->stream->cancel();
          }
        });
      }
    }
    bool idle;
    {
      std::unique_lock<std::mutex> lock(impl_->drained_mu);
      idle = impl_->drained_cv.wait_until(
          lock,
          std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)),
          [&] { return active_.load() == 0; });
    }
    // Dispatch: a connection another worker claimed this one for before it began to drain is
    // on its way; take it in and serve it, then stop taking any (a later one is for the slot's
    // next worker, which reads the same socket).
    if (idle && (impl_->handoff == nullptr || !impl_->handoff->InTransitToMe())) {
      impl_->StopReceivingHandoffs();
      if (active_.load() == 0) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return active_.load() == 0;
  }
}

void Server::Stop() {
  if (impl_->threads.empty()) return;
  impl_->stopping = true;
  impl_->guards.clear();
  for (auto& ioc : impl_->iocs) ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace ephpm::http
