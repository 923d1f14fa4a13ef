// Handoff: moving a keep-alive connection, with the request already read on it, from a worker
// process whose PHP thread is busy to one that is idle (runtime/http/README.md, "Dispatch").
//
// The master creates, before its first fork, one AF_UNIX datagram socketpair per worker slot
// and a shared page of per-slot claim counters. Every worker inherits the sending ends of all
// slots and keeps the receiving end of its own; the master keeps every receiving end open, so a
// connection sent to a worker that dies before reading it stays queued in the socket and is
// read by the slot's next worker. A message carries the connection's file descriptor
// (SCM_RIGHTS), the request's head re-serialised, its body (the bytes, or the descriptor of its
// spooled temp file) and the bytes read after it (pipelined requests).
//
// Claims: a sender takes a slot that reports itself idle (the supervisor's idle flags) and has
// no claim in transit, by raising that slot's counter from 0; the receiver lowers it once it has
// taken the message and counted the request as its load. So two senders never pick the same
// idle worker for one idle period, and a draining worker waits until nothing is in transit to it.
#ifndef EPHPM_RUNTIME_HTTP_HANDOFF_H_
#define EPHPM_RUNTIME_HTTP_HANDOFF_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/php/request_sapi.h"

namespace ephpm::http {

// A connection as it arrives in the receiving worker.
struct HandedConnection {
  int fd = -1;           // the client's TCP socket, owned by the receiver from now on
  std::string head;      // request line and fields, ending in an empty line
  php::RequestBody body;  // complete (in memory, or an open temp file closed with `hold`)
  std::string leftover;  // bytes the sender had read after the request
};

class Handoff {
 public:
  // Master, before the first fork. `idle` are the supervisor's per-slot flags (1 = the slot's
  // worker accepts and has no PHP work in flight); they must outlive every worker.
  static std::unique_ptr<Handoff> Create(int slots, const std::atomic<uint8_t>* idle,
                                         std::string* error);
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;
  ~Handoff();

  // Slots created; a reload may run more workers than this, which take no part in dispatch.
  int slots() const { return slots_; }
  // In a forked worker of `slot`: closes the receiving ends of the other slots.
  void BecomeWorker(int slot);
  // Master: the worker of `slot` is gone; a claim it took but did not release is forgotten.
  void WorkerGone(int slot);

  // Sender: claims an idle worker other than this one; -1 when there is none.
  int Claim();
  // Sends the connection to the claimed `slot`. true: the receiver owns it now (the caller
  // closes its own descriptor). false: nothing was sent and the claim is given back.
  bool Send(int slot, int conn_fd, std::string_view head, const php::RequestBody& body,
            std::string_view leftover);

  // Receiver: the descriptor to wait on (readable when a connection is waiting).
  int receive_fd() const;
  // Receiver, non-blocking: true with *out filled when a connection was taken; false when none
  // is waiting. A malformed message is logged and dropped (its descriptors closed).
  bool Receive(HandedConnection* out);
  // Receiver: claims on this worker's slot not yet taken.
  bool InTransitToMe() const;

 private:
  struct Shared;
  Handoff() = default;
  void Release(int slot);

  int slots_ = 0;
  int my_slot_ = -1;
  const std::atomic<uint8_t>* idle_ = nullptr;
  Shared* shared_ = nullptr;
  std::vector<int> receive_;  // per slot (the master keeps all; a worker only its own)
  std::vector<int> send_;     // per slot
  std::atomic<uint32_t> next_{0};  // where the next Claim() starts looking
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_HANDOFF_H_
