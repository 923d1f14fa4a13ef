// The `ephpm` executable: dispatches subcommands.
//
//   ephpm php [php-cli options] script.php [args...]     runtime/php/cli.h (dispatched by hand)
//   ephpm --config FILE php ...                           same, with FILE's [kv] section
//   ephpm serve [--config FILE] ...                       runtime/http/serve_main.h
//   ephpm [--config FILE] kv get|set|del|ttl|stats|flush|scan ...   runtime/cli/kv_command.h
//   ephpm [--config FILE] check                           runtime/http/reload.h (CheckMain)
//
// `php` is dispatched BEFORE CLI11 parses anything, so every argument after `php` belongs to PHP
// (docs/embedding-php.md section 16). The binary is also reachable as `ephpm-php` (a hard link made by
// the build next to `ephpm`), which behaves exactly like `ephpm php`; PHP_BINARY points at it so
// tools that re-run PHP_BINARY with php-cli options (PHPUnit process isolation) keep working.
#include <stdio.h>
#include <string.h>

#include <string>

#include <CLI/CLI.hpp>

#include "runtime/cli/kv_command.h"
#include "runtime/http/reload.h"
#include "runtime/http/serve_main.h"
#include "runtime/php/cli.h"
#include "runtime/version.h"

namespace {

const char* Basename(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

int RunPhp(int argc, char** argv, const char* argv0, std::string config_path) {
  // PhpCliMain's own C++ work (arguments, config, store) may throw; PHP itself never unwinds
  // through here (its bailouts longjmp inside PhpCliMain's request function).
  try {
    ephpm::php::CliContext context;
    context.argv0 = argv0;
    context.config_path = std::move(config_path);
    return ephpm::php::PhpCliMain(argc, argv, context);
  } catch (const std::exception& e) {
    fprintf(stderr, "ephpm php: fatal: %s\n", e.what());
  } catch (...) {
    fprintf(stderr, "ephpm php: fatal: unknown error\n");
  }
  return 70;  // EX_SOFTWARE
}

}  // namespace

int main(int argc, char** argv) {
  const char* argv0 = argc > 0 ? argv[0] : "ephpm";

  // --- `ephpm php ...`, dispatched by hand before any option parsing -------------------------
  if (strcmp(Basename(argv0), "ephpm-php") == 0) {
    return RunPhp(argc - 1, argv + 1, argv0, std::string());
  }
  if (argc >= 2 && strcmp(argv[1], "php") == 0) {
    return RunPhp(argc - 2, argv + 2, argv0, std::string());
  }
  if (argc >= 4 && strcmp(argv[1], "--config") == 0 && strcmp(argv[3], "php") == 0) {
    return RunPhp(argc - 4, argv + 4, argv0, argv[2]);
  }
  if (argc >= 3 && strncmp(argv[1], "--config=", 9) == 0 && strcmp(argv[2], "php") == 0) {
    return RunPhp(argc - 3, argv + 3, argv0, argv[1] + 9);
  }

  // --- everything else: CLI11 ------------------------------------------------------------------
  CLI::App app{"ephpm: a PHP application server with an in-process key-value store"};
  app.set_version_flag("--version", "ephpm " EPHPM_VERSION);
  std::string config_path;
  app.add_option("--config", config_path, "ephpm.toml to use (default: $EPHPM_CONFIG, ./ephpm.toml)");
  app.require_subcommand(1);

  // Listed for --help only: `php` is handled above and never reaches CLI11's parser.
  CLI::App* php = app.add_subcommand(
      "php", "Run PHP like php-cli, with the ephpm_kv_* store: ephpm php [options] script.php [args...]");
  php->allow_extras();
  php->prefix_command();

  // `ephpm serve`: HTTP server (runtime/http/serve_main.h). --config may come before or after `serve`.
  ephpm::http::ServeOptions serve_options;
  CLI::App* serve = app.add_subcommand("serve", "Serve the document root over HTTP with PHP");
  serve->add_option("--config", serve_options.config_path,
                    "ephpm.toml to use (default: $EPHPM_CONFIG, ./ephpm.toml)");
  serve->add_option("--listen", serve_options.listen, "listen address host:port (overrides [server] listen)");
  serve->add_option("--document-root", serve_options.document_root,
                    "document root (overrides [server] document_root; relative to the current directory)");

  // `ephpm check`: validates the config as `serve` and a SIGHUP reload would (deploy scripts).
  std::string check_config;
  CLI::App* check = app.add_subcommand(
      "check", "Validate the configuration as serve would: prints \"FILE: ok\" (exit 0) or the "
               "error (exit 2)");
  check->add_option("--config", check_config,
                    "ephpm.toml to check (default: $EPHPM_CONFIG, ./ephpm.toml)");

  ephpm::cli::KvCommand kv(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Prints --help/--version output or the error; usage errors exit with 2 (not CLI11's 1xx).
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*serve) {
    if (serve_options.config_path.empty()) serve_options.config_path = config_path;
    return ephpm::http::ServeMain(serve_options);
  }
  if (*check) return ephpm::http::CheckMain(check_config.empty() ? config_path : check_config);
  if (kv.selected()) return kv.Run(config_path);
  if (*php) {
    // Reached only as `ephpm --config=X ... php` forms not matched above; re-dispatch.
    std::vector<std::string> rest = php->remaining();
    std::vector<char*> args;
    for (std::string& s : rest) args.push_back(s.data());
    args.push_back(nullptr);
    return RunPhp(static_cast<int>(rest.size()), args.data(), argv0, config_path);
  }
  return 0;
}
