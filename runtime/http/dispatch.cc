// Dispatch between worker processes: a PHP request that would wait behind this process's busy
// PHP thread goes, with its connection, to an idle worker (runtime/http/README.md, "Dispatch";
// the transport is handoff.h).
//
// The decision is taken in RunPhp, after the request has been read completely and routed to PHP,
// and before it is queued: at that point no response is in flight on the connection (a session
// reads its next request only after writing the previous response), so handing the connection
// over keeps its responses in request order. A worker whose PHP thread is free never gets here
// past one relaxed load: the fast path is what it was. A connection handed to this worker runs
// its first request here whatever this worker's state is by then (no second hop, so no
// ping-pong); its later requests are dispatched like any other.
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <limits>

#include <spdlog/spdlog.h>

#include "runtime/http/handoff.h"
#include "runtime/http/server_impl.h"

namespace ephpm::http {
namespace {

// The request line and fields as received (Beast keeps their order, spelling and duplicates),
// for the receiving worker to parse again. The body travels separately, already decoded.
std::string SerializeHead(const bhttp::request<SpoolBody>& req) {
  std::string s;
  s.reserve(512);
  s.append(req.method_string().data(), req.method_string().size());
  s += ' ';
  s.append(req.target().data(), req.target().size());
  s += req.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  for (const auto& f : req) {
    s.append(f.name_string().data(), f.name_string().size());
    s += ": ";
    s.append(f.value().data(), f.value().size());
    s += "\r\n";
  }
  s += "\r\n";
  return s;
}

}  // namespace

bool Server::Impl::TryHandOff(beast::tcp_stream& stream, RequestParser& parser, SessionCtl* ctl) {
  if (handoff == nullptr || !ctl->may_hand_off || stopping) return false;
  if (php_jobs.load(std::memory_order_relaxed) == 0) return false;  // PHP is free: run it here
  int slot = handoff->Claim();
  if (slot < 0) return false;  // every other worker is busy too: queue here, as before
  auto& req = parser.get();
  std::string head = SerializeHead(req);
  asio::const_buffer unread = ctl->buffer->data();
  std::string_view leftover(static_cast<const char*>(unread.data()), unread.size());
  int fd = stream.socket().native_handle();
  if (!handoff->Send(slot, fd, head, req.body(), leftover)) return false;
  // The receiver holds its own descriptor of the connection now. Ours leaves the epoll set
  // before it is closed (release, not close: epoll tracks the file, which lives on elsewhere).
  beast::error_code ec;
  stream.socket().release(ec);
  ::close(fd);
  ctl->handed_off = true;
  return true;
}

awaitable<void> Server::Impl::ReceiveHandoffs() {
  auto handed = std::make_unique<HandedConnection>();
  for (;;) {
    beast::error_code ec;
    co_await handoff_in->async_wait(asio::posix::descriptor_base::wait_read,
                                    redirect_error(use_awaitable, ec));
    if (ec || !handoff_in->is_open()) co_return;
    while (handoff_in->is_open() && handoff->Receive(handed.get())) {
      asio::io_context& target = *iocs[next_ioc++ % iocs.size()];
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      getsockname(handed->fd, reinterpret_cast<sockaddr*>(&ss), &len);
      tcp::socket socket(target);
      socket.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), handed->fd, ec);
      if (ec) {
        spdlog::error("handoff: cannot adopt a connection: {}", ec.message());
        ::close(handed->fd);
        continue;
      }
      LoadUp();  // until its first request is answered, like a fresh connection
      owner->active_++;
      asio::co_spawn(target, Session(std::move(socket), &target, std::move(handed)),
                     asio::detached);
      handed = std::make_unique<HandedConnection>();
    }
  }
}

void Server::Impl::StopReceivingHandoffs() {
  if (!handoff_in) return;
  std::promise<void> done;
  asio::post(*iocs[0], [this, &done] {
    beast::error_code ec;
    handoff_in->close(ec);  // our own dup: the slot's socket stays open for its next worker
    done.set_value();
  });
  done.get_future().wait();
}

bool Server::Impl::AdoptRequest(HandedConnection& handed, RequestParser& parser,
                                bool* keep_alive) {
  parser.header_limit(std::numeric_limits<uint32_t>::max());  // checked by the sender
  parser.eager(false);  // the head only: the body was read by the sender
  beast::error_code ec;
  parser.put(asio::buffer(handed.head), ec);
  if (ec == bhttp::error::need_more) ec = {};
  if (ec || !parser.is_header_done()) {
    spdlog::error("handoff: cannot parse a handed request: {}", ec.message());
    return false;
  }
  parser.get().body() = std::move(handed.body);
  *keep_alive = parser.get().keep_alive() && !stopping;
  return true;
}

void Server::DispatchWith(Handoff* handoff) { impl_->handoff = handoff; }

}  // namespace ephpm::http
