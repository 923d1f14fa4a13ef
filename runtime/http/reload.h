// Reading ephpm.toml into what `serve` runs on, one way for the three times it happens: at
// start-up, on SIGHUP in the master (config reload), and in `ephpm check`. So a reload rejects
// exactly what start-up would have rejected, with the same messages, and `check` says in
// advance what both will say.
//
// A reload (Reloader, called by the master, supervisor.h) builds a complete new ServeSetup; if
// that fails, the running one stays and the error is logged. Otherwise the settings bound at
// start-up (config/diff.h: the listening socket, the store, PHP module start-up's mode and
// ini_file) are put back to their running values and reported by key, the rest takes effect in
// the workers the master forks from then on: the rolling restart replaces every worker, one at
// a time, each old one draining only once its replacement accepts (supervisor.h). The document
// root is resolved again even when the file did not change, so a `current -> releases/N`
// symlink switched by a deploy is followed.
#ifndef EPHPM_RUNTIME_HTTP_RELOAD_H_
#define EPHPM_RUNTIME_HTTP_RELOAD_H_

#include <memory>
#include <string>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/http/router.h"
#include "runtime/http/serve_main.h"
#include "runtime/php/request_sapi.h"
#include "runtime/php/worker_sapi.h"

namespace ephpm::http {

// Everything `serve` derives from the config before it binds anything. The router reads
// cfg.server by reference, so a ServeSetup is made once on the heap and never moved.
struct ServeSetup {
  config::Config cfg;
  std::unique_ptr<Router> router;
  php::WorkerScript worker_script;  // [php] mode = "worker" only
  std::string location;             // the config file looked for (for messages)
};

// Locate, load and validate the config (with the command-line overrides of `opts`), check the
// files it names (CheckServeFiles), resolve the document root and the worker script. nullptr
// with *error set ("file: [table] key: reason") when any of that fails. The loader's warnings
// are added to *warnings either way.
std::unique_ptr<ServeSetup> PrepareServe(const ServeOptions& opts,
                                         std::vector<std::string>* warnings, std::string* error);

// The PHP settings of a config (kv_store and log are left for the caller).
php::RequestSapiOptions PhpOptionsFor(const config::Config& cfg);

// [php] workers resolved: 0 = one per CPU.
int ResolvedWorkers(const config::Config& cfg);

// `ephpm check`: validates the config as `serve` would and prints `FILE: ok` (exit 0) or the
// error (exit 2); warnings are printed either way.
int CheckMain(const std::string& config_path);

// The master's side of SIGHUP. Single-threaded (the master's loop).
class Reloader {
 public:
  Reloader(ServeOptions opts, std::unique_ptr<ServeSetup> running)
      : opts_(std::move(opts)), running_(std::move(running)) {}

  // Reads the config again. false: rejected (logged); the running setup is unchanged.
  // true: running() is the new setup (logged: what changed, what is kept until a restart), the
  // log level is applied, and workers forked from now on run it.
  bool Reload();
  const ServeSetup& running() const { return *running_; }

 private:
  const ServeOptions opts_;
  std::unique_ptr<ServeSetup> running_;
};

}  // namespace ephpm::http

#endif  // EPHPM_RUNTIME_HTTP_RELOAD_H_
