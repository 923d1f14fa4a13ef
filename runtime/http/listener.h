// The listening socket, opened once per `ephpm serve` before anything else starts.
//
// It is opened separately from the Server (server.h) so that the master of the worker processes
// (supervisor.h) can open it once and every forked worker accepts on the same inherited socket;
// the kernel's backlog is then shared, and a worker that stops accepting (drain, recycling)
// leaves waiting connections to the others.
#ifndef EPHPM_RUNTIME_HTTP_LISTENER_H_
#define EPHPM_RUNTIME_HTTP_LISTENER_H_

#include <string>

#include "runtime/config/config.h"

namespace ephpm::http {

// Opens, binds and listens (SO_REUSEADDR, backlog 1024, close-on-exec). Returns the fd or -1
// with *error. *url receives "http://host:port" with the real port (listen port 0 picks one).
int OpenListener(const config::ListenAddress& address, std::string* url, std::string* error);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_LISTENER_H_
