// The accept loop, and accept balancing between worker processes.
//
// All worker processes accept on one inherited listening socket (listener.h), and a keep-alive
// connection stays with the worker that accepted it. Left to the kernel, a busy worker (one PHP
// thread, already running a script) keeps winning new connections while another worker sits
// idle, and those requests wait behind the running script. So a worker with PHP work in flight
// steps back while another worker reports itself idle (Server::Balance, one flag per worker in a
// shared page): its accept loop waits in a gate, re-checking every balance_poll, and a loop that
// is already parked in async_accept is cancelled by Watch(). When every worker is busy, nobody
// steps back. Off (balance_poll = 0) in the single-process mode.
#include <spdlog/spdlog.h>

#include "runtime/http/server_impl.h"

namespace ephpm::http {

awaitable<void> Server::Impl::Accept() {
  for (;;) {
    beast::error_code ec;
    if (stopping) co_return;
    if (balance_poll.count() > 0) {
      while (load.load(std::memory_order_acquire) > 0 && balance.others_idle()) {
        gate->expires_after(balance_poll);
        co_await gate->async_wait(redirect_error(use_awaitable, ec));
        if (stopping || !acceptor->is_open()) co_return;
      }
    }
    asio::io_context& target = *iocs[next_ioc++ % iocs.size()];
    parked = true;
    if (load.load(std::memory_order_acquire) > 0) Watch();
    tcp::socket socket = co_await acceptor->async_accept(target, redirect_error(use_awaitable, ec));
    parked = false;
    if (ec) {
      if (stopping || !acceptor->is_open()) co_return;
      if (ec == asio::error::operation_aborted) {
        if (balance_poll.count() > 0) continue;  // Watch(): leave the next one to an idle worker
        co_return;
      }
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        spdlog::warn("accept: {} (pausing 100 ms)", ec.message());
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
        co_await t.async_wait(redirect_error(use_awaitable, ec));
      }
      continue;
    }
    LoadUp();  // until the connection's first request is answered
    // Counted from here, not when the session starts on its thread, so that Drain() cannot
    // see zero connections while an accepted one is on its way to its I/O thread.
    owner->active_++;
    asio::co_spawn(target, Session(std::move(socket), &target, nullptr), asio::detached);
  }
}

void Server::Impl::LoadUp() {
  if (balance_poll.count() == 0) return;
  if (load.fetch_add(1, std::memory_order_acq_rel) == 0) {
    balance.busy_changed(true);
    asio::post(*iocs[0], [this] { Watch(); });
  }
}

void Server::Impl::LoadDown() {
  if (balance_poll.count() == 0) return;
  if (load.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    balance.busy_changed(false);
    asio::post(*iocs[0], [this] {
      if (gate) gate->cancel();
    });
  }
}

// On iocs[0]: while the accept loop is parked in async_accept and this server is busy, check
// every balance_poll whether another worker became idle; if so, cancel the accept so the loop
// waits in its gate instead of competing for the next connection.
void Server::Impl::Watch() {
  if (watching || !parked || !watch) return;
  watching = true;
  watch->expires_after(balance_poll);
  watch->async_wait([this](beast::error_code ec) {
    watching = false;
    if (ec || !parked || stopping) return;
    if (load.load(std::memory_order_acquire) == 0) return;
    if (balance.others_idle()) {
      beast::error_code ignored;
      acceptor->cancel(ignored);
      return;
    }
    Watch();
  });
}

void Server::BalanceAccepts(Balance balance, std::chrono::microseconds poll) {
  impl_->balance = std::move(balance);
  impl_->balance_poll = poll;
}

}  // namespace ephpm::http
