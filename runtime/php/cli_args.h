// runtime/php/cli_args.h: the command line of `ephpm php`, php-cli's options (a compatible subset,
// docs/embedding-php.md section 16). Plain C++, no PHP: cli.cc turns CliArgs into what it runs.
#ifndef EPHPM_RUNTIME_PHP_CLI_ARGS_H_
#define EPHPM_RUNTIME_PHP_CLI_ARGS_H_

#include <stdio.h>

#include <string>
#include <vector>

namespace ephpm::php {

// What `ephpm php` runs: a script file, stdin, -r code, or one of the informational modes.
enum class Mode { kScript, kStdin, kCode, kLint, kVersion, kModules, kInfo, kIniList };

struct CliArgs {
  Mode mode = Mode::kScript;
  bool mode_set = false;
  std::string code;
  std::string script;
  bool script_set = false;
  std::vector<std::string> ini;  // -d lines, already quoted like php-cli
  std::string ini_path;          // -c
  bool ini_ignore = false;       // -n
  std::vector<std::string> script_args;
  bool help = false;
};

void PrintUsage(FILE* out);

// Returns -1 to continue, otherwise an exit code (the error is printed on stderr).
int ParseArgs(int argc, char** argv, CliArgs* out);

// php-cli quotes -d values that do not start with an alphanumeric character or a quote, so
// `-d include_path=/x:/y` and `-d memory_limit=-1` reach the INI parser as one string.
std::string IniLineFromDefine(const std::string& def);

}  // namespace ephpm::php

#endif  // EPHPM_RUNTIME_PHP_CLI_ARGS_H_
