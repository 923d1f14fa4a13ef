// The Redis-protocol listener's network side: accepts connections on a listening socket and runs
// each one's read -> parse -> execute -> write loop on one Asio io_context (one thread: the
// commands are short store calls, so one thread keeps up with the network).
//
// Per connection: at most max_input_buffer bytes of one command are buffered (a bigger frame is a
// protocol error that closes that connection only); replies of a pipelined batch are gathered and
// written together, and no more input is read while a write is in flight, so a client that does
// not read its replies cannot make us buffer without end; a connection silent for
// idle_timeout_secs is closed; beyond max_connections a new connection gets Redis's
// "-ERR max number of clients reached" and is closed.
#ifndef EPHPM_RUNTIME_RESP_SERVER_H_
#define EPHPM_RUNTIME_RESP_SERVER_H_

#include <memory>

#include <boost/asio/io_context.hpp>

#include "runtime/config/config.h"
#include "runtime/kv/store.h"

namespace ephpm::resp {

class Server {
 public:
  // listen_fd: a bound, listening TCP socket; the server owns it from here on.
  Server(boost::asio::io_context& io, int listen_fd, const config::RedisCompatConfig& config,
         kv::Store* store);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void Start();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ephpm::resp

#endif  // EPHPM_RUNTIME_RESP_SERVER_H_
