// Handoff (handoff.h): the socketpairs, the claim counters and the message format.
//
// A message is one datagram: a WireHeader, then the head, the in-memory body and the leftover
// bytes. Above kInlineMax those three go into a memfd passed along instead (a datagram must fit
// the socket's send buffer). The descriptors ride in one SCM_RIGHTS block, in a fixed order:
// the connection, then the body's temp file, then the memfd.
#include "runtime/http/handoff.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace ephpm::http {
namespace {

constexpr uint32_t kMagic = 0x45504844;  // "EPHD"
constexpr size_t kInlineMax = 32 * 1024;
constexpr int kMaxFds = 3;

struct WireHeader {
  uint32_t magic = kMagic;
  uint32_t head_len = 0;
  uint64_t memory_len = 0;     // body bytes in the message (body_in_file = 0)
  uint64_t file_size = 0;      // body bytes in the passed temp file (body_in_file = 1)
  uint64_t leftover_len = 0;
  uint8_t body_in_file = 0;
  uint8_t payload_in_fd = 0;  // head, memory body and leftover are in a passed memfd
  uint8_t pad[6] = {};
};

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool PreadAll(int fd, char* out, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t got = pread(fd, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

}  // namespace

// One per slot, a cache line each: the counters are written by different workers.
struct alignas(64) Handoff::Shared {
  std::atomic<uint32_t> in_transit{0};
};

std::unique_ptr<Handoff> Handoff::Create(int slots, const std::atomic<uint8_t>* idle,
                                         std::string* error) {
  std::unique_ptr<Handoff> h(new Handoff());
  h->slots_ = slots;
  h->idle_ = idle;
  size_t bytes = sizeof(Shared) * static_cast<size_t>(slots);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    *error = std::string("mmap: ") + strerror(errno);
    return nullptr;
  }
  h->shared_ = static_cast<Shared*>(p);  // zero-filled: nothing in transit
  for (int i = 0; i < slots; ++i) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) {
      *error = std::string("socketpair: ") + strerror(errno);
      return nullptr;
    }
    h->receive_.push_back(sv[0]);
    h->send_.push_back(sv[1]);
  }
  return h;
}

Handoff::~Handoff() {
  for (int fd : receive_) {
    if (fd >= 0) close(fd);
  }
  for (int fd : send_) close(fd);
  if (shared_ != nullptr) munmap(shared_, sizeof(Shared) * static_cast<size_t>(slots_));
}

void Handoff::BecomeWorker(int slot) {
  my_slot_ = slot;
  for (int i = 0; i < slots_; ++i) {
    if (i != slot && receive_[i] >= 0) {
      close(receive_[i]);
      receive_[i] = -1;
    }
  }
}

void Handoff::WorkerGone(int slot) {
  if (slot < slots_) shared_[slot].in_transit.store(0);  // a reload may have added slots
}

void Handoff::Release(int slot) {
  std::atomic<uint32_t>& c = shared_[slot].in_transit;
  uint32_t cur = c.load();
  // Never below zero: WorkerGone() may have cleared a claim whose message is still queued.
  while (cur > 0 && !c.compare_exchange_weak(cur, cur - 1)) {
  }
}

int Handoff::Claim() {
  if (slots_ <= 1 || my_slot_ < 0) return -1;
  uint32_t start = next_.fetch_add(1, std::memory_order_relaxed);
  for (int k = 0; k < slots_; ++k) {
    int s = static_cast<int>((start + static_cast<uint32_t>(k)) % static_cast<uint32_t>(slots_));
    if (s == my_slot_ || idle_[s].load() == 0 || shared_[s].in_transit.load() != 0) continue;
    if (shared_[s].in_transit.fetch_add(1) != 0) {  // another sender was quicker
      Release(s);
      continue;
    }
    // Re-read after the claim is visible: a worker that starts draining clears its flag first
    // and then waits for its in-transit count, so either it sees this claim or we see its flag.
    if (idle_[s].load() == 0) {
      Release(s);
      continue;
    }
    return s;
  }
  return -1;
}

bool Handoff::Send(int slot, int conn_fd, std::string_view head, const php::RequestBody& body,
                   std::string_view leftover) {
  WireHeader h;
  h.head_len = static_cast<uint32_t>(head.size());
  h.body_in_file = body.fd >= 0 ? 1 : 0;
  if (body.fd >= 0) {
    h.file_size = body.file_size;
  } else {
    h.memory_len = body.memory.size();
  }
  h.leftover_len = leftover.size();
  std::string_view memory = body.fd >= 0 ? std::string_view() : std::string_view(body.memory);
  int fds[kMaxFds];
  int nfds = 0;
  fds[nfds++] = conn_fd;
  if (body.fd >= 0) fds[nfds++] = body.fd;
  iovec iov[4];
  int niov = 0;
  iov[niov++] = {&h, sizeof h};
  int memfd = -1;
  if (head.size() + memory.size() + leftover.size() > kInlineMax) {
    h.payload_in_fd = 1;
    memfd = memfd_create("ephpm-handoff", MFD_CLOEXEC);
    if (memfd < 0 || !WriteAll(memfd, head) || !WriteAll(memfd, memory) ||
        !WriteAll(memfd, leftover)) {
      spdlog::warn("handoff: cannot write the request to a memfd: {}", strerror(errno));
      if (memfd >= 0) close(memfd);
      Release(slot);
      return false;
    }
    fds[nfds++] = memfd;
  } else {
    for (std::string_view part : {head, memory, leftover}) {
      if (!part.empty()) iov[niov++] = {const_cast<char*>(part.data()), part.size()};
    }
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<size_t>(niov);
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * static_cast<size_t>(nfds));
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * static_cast<size_t>(nfds));
  memcpy(CMSG_DATA(cm), fds, sizeof(int) * static_cast<size_t>(nfds));
  ssize_t n;
  do {
    n = sendmsg(send_[slot], &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (memfd >= 0) close(memfd);
  if (n < 0) {  // EAGAIN: the receiver's queue is full; serve it here
    spdlog::debug("handoff to worker {}: {}", slot, strerror(errno));
    Release(slot);
    return false;
  }
  return true;
}

int Handoff::receive_fd() const { return my_slot_ >= 0 ? receive_[my_slot_] : -1; }

bool Handoff::InTransitToMe() const {
  return my_slot_ >= 0 && shared_[my_slot_].in_transit.load() != 0;
}

bool Handoff::Receive(HandedConnection* out) {
  std::string buf(sizeof(WireHeader) + kInlineMax, '\0');
  for (;;) {
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
      n = recvmsg(receive_fd(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        spdlog::error("handoff: recvmsg: {}", strerror(errno));
      }
      return false;
    }
    Release(my_slot_);
    int fds[kMaxFds];
    int nfds = 0;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
        if (nfds < kMaxFds) {
          fds[nfds++] = fd;
        } else {
          close(fd);
        }
      }
    }
    WireHeader h;
    if (static_cast<size_t>(n) >= sizeof h) memcpy(&h, buf.data(), sizeof h);
    size_t payload = h.head_len + h.memory_len + h.leftover_len;
    int want = 1 + h.body_in_file + h.payload_in_fd;
    bool ok = static_cast<size_t>(n) >= sizeof h && h.magic == kMagic && nfds == want &&
              (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 &&
              (h.payload_in_fd || static_cast<size_t>(n) == sizeof h + payload);
    std::string data;
    if (ok && h.payload_in_fd) {
      data.resize(payload);
      ok = PreadAll(fds[nfds - 1], data.data(), payload, 0);
    } else if (ok) {
      data.assign(buf.data() + sizeof h, payload);
    }
    if (h.payload_in_fd && nfds == want) close(fds[--nfds]);
    if (!ok) {
      spdlog::error("handoff: dropped a malformed message ({} bytes, {} descriptors)", n, nfds);
      for (int i = 0; i < nfds; ++i) close(fds[i]);
      continue;
    }
    out->fd = fds[0];
    out->head = data.substr(0, h.head_len);
    out->body = php::RequestBody();
    if (h.body_in_file) {
      int body_fd = fds[1];
      out->body.fd = body_fd;
      out->body.file_size = h.file_size;
      out->body.hold = std::shared_ptr<void>(nullptr, [body_fd](void*) { close(body_fd); });
    } else {
      out->body.memory = data.substr(h.head_len, h.memory_len);
    }
    out->leftover = data.substr(h.head_len + h.memory_len);
    return true;
  }
}

}  // namespace ephpm::http
