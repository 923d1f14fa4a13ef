// runtime/php/cli.h: `ephpm php [options] [-f] script.php [args...]`, a php-cli emulation with
// the ephpm_kv_* store wired in. See runtime/php/README.md for the user-facing description.
#ifndef EPHPM_RUNTIME_PHP_CLI_H_
#define EPHPM_RUNTIME_PHP_CLI_H_

#include <string>

namespace ephpm::php {

struct CliContext {
  // argv[0] of the ephpm process (used to find our own binary for PHP_BINARY).
  const char* argv0 = "ephpm";
  // `ephpm --config FILE php ...`; empty = EPHPM_CONFIG, else ./ephpm.toml if present, else
  // built-in [kv] defaults.
  std::string config_path;
};

// Runs php-cli style with `argc/argv` being everything after `php` (argv[0] is NOT a program
// name: `ephpm php -r 'echo 1;'` passes {"-r", "echo 1;"}). Returns the process exit code.
// Must be called on the main thread before any other thread exists (signals, PHP thread).
int PhpCliMain(int argc, char** argv, const CliContext& context);

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_CLI_H_
