// `ephpm serve`: configuration, start-up order, and the choice between the single-process mode
// and the master of worker processes (serve_main.cc).
#ifndef EPHPM_RUNTIME_HTTP_SERVE_MAIN_H_
#define EPHPM_RUNTIME_HTTP_SERVE_MAIN_H_

#include <string>

namespace ephpm::http {

struct ServeOptions {
  // --config; when empty: $EPHPM_CONFIG (must exist), else ./ephpm.toml (optional).
  std::string config_path;
  std::string listen;         // --listen override, "" = from config
  std::string document_root;  // --document-root override, "" = from config
};

// Runs the server until SIGTERM/SIGINT/SIGQUIT; returns the process exit code (0 after a clean
// drain, 2 for configuration errors, 1 for start-up failures). Must be called before any thread
// is created (it installs the process signal mask first).
int ServeMain(const ServeOptions& options);

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_SERVE_MAIN_H_
