// runtime/php/cli_args.cc: parsing `ephpm php`'s command line like php-cli does (see cli_args.h).
#include "runtime/php/cli_args.h"

#include <ctype.h>

namespace ephpm::php {
namespace {

// Sets the one run mode; a second, different mode is a usage error (as in php-cli).
bool SetMode(CliArgs* out, Mode m) {
  if (out->mode_set && out->mode != m) {
    fprintf(stderr, "ephpm php: only one of -r, -f, -l, -v, -m, -i, --ini may be given\n");
    return false;
  }
  out->mode = m;
  out->mode_set = true;
  return true;
}

// --name[=value]: argv[*i] is the option; a value not given with '=' is the next argument.
// Returns false (error printed) on a usage error.
bool ParseLongOption(int argc, char** argv, int* i, CliArgs* out) {
  std::string name = std::string(argv[*i]).substr(2);
  std::string value;
  bool has_value = false;
  size_t eq = name.find('=');
  if (eq != std::string::npos) {
    value = name.substr(eq + 1);
    name = name.substr(0, eq);
    has_value = true;
  }
  auto need_value = [&]() -> bool {
    if (has_value) return true;
    if (*i + 1 >= argc) {
      fprintf(stderr, "ephpm php: option --%s needs an argument\n", name.c_str());
      return false;
    }
    value = argv[++*i];
    return true;
  };
  if (name == "run") {
    if (!need_value() || !SetMode(out, Mode::kCode)) return false;
    out->code = value;
  } else if (name == "define") {
    if (!need_value()) return false;
    out->ini.push_back(IniLineFromDefine(value));
  } else if (name == "php-ini") {
    if (!need_value()) return false;
    out->ini_path = value;
  } else if (name == "file") {
    if (!need_value() || !SetMode(out, Mode::kScript)) return false;
    out->script = value;
    out->script_set = true;
  } else if (name == "no-php-ini") {
    out->ini_ignore = true;
  } else if (name == "version") {
    return SetMode(out, Mode::kVersion);
  } else if (name == "modules") {
    return SetMode(out, Mode::kModules);
  } else if (name == "info") {
    return SetMode(out, Mode::kInfo);
  } else if (name == "syntax-check") {
    return SetMode(out, Mode::kLint);
  } else if (name == "ini") {
    return SetMode(out, Mode::kIniList);
  } else if (name == "help" || name == "usage") {
    out->help = true;
  } else {
    fprintf(stderr, "ephpm php: unknown option --%s (see `ephpm php -h`)\n", name.c_str());
    return false;
  }
  return true;
}

// -r/-d/-c/-f with their value (the rest of the token or the next argument).
bool ApplyValueOption(char c, const std::string& value, CliArgs* out) {
  if (c == 'r') {
    if (!SetMode(out, Mode::kCode)) return false;
    out->code = value;
  } else if (c == 'd') {
    out->ini.push_back(IniLineFromDefine(value));
  } else if (c == 'c') {
    out->ini_path = value;
  } else {
    if (!SetMode(out, Mode::kScript)) return false;
    out->script = value;
    out->script_set = true;
  }
  return true;
}

// A flag without a value.
bool ApplyFlag(char c, CliArgs* out) {
  switch (c) {
    case 'n': out->ini_ignore = true; return true;
    case 'v': return SetMode(out, Mode::kVersion);
    case 'm': return SetMode(out, Mode::kModules);
    case 'i': return SetMode(out, Mode::kInfo);
    case 'l': return SetMode(out, Mode::kLint);
    case 'h': case '?': out->help = true; return true;
    case 'q': case 'e': case 'H': return true;  // accepted and ignored, as php-cli does for -q
    case 'a': case 'S': case 't': case 'B': case 'R': case 'F': case 'E': case 's':
    case 'w': case 'z':
      fprintf(stderr, "ephpm php: option -%c is not supported by ephpm php (use php-cli)\n", c);
      return false;
    default:
      fprintf(stderr, "ephpm php: unknown option -%c (see `ephpm php -h`)\n", c);
      return false;
  }
}

// Short options, possibly grouped (-nr CODE); an option taking a value takes the rest of the
// token or the next argument.
bool ParseShortOptions(int argc, char** argv, int* i, CliArgs* out) {
  std::string arg = argv[*i];
  for (size_t k = 1; k < arg.size(); k++) {
    char c = arg[k];
    if (c == 'r' || c == 'd' || c == 'c' || c == 'f') {
      std::string value;
      if (k + 1 < arg.size()) {
        value = arg.substr(k + 1);
      } else if (*i + 1 < argc) {
        value = argv[++*i];
      } else {
        fprintf(stderr, "Error in argument %d, char %zu: no argument for option %c\n", *i + 1,
                k + 1, c);
        return false;
      }
      return ApplyValueOption(c, value, out);  // the value consumed the rest of the token
    }
    if (!ApplyFlag(c, out)) return false;
  }
  return true;
}

}  // namespace

void PrintUsage(FILE* out) {
  fputs(
      "Usage: ephpm php [options] [-f] <file> [--] [args...]\n"
      "   ephpm php [options] -r <code> [--] [args...]\n"
      "   ephpm php [options] -- [args...]          (script read from stdin)\n"
      "\n"
      "  -c <path>|<file> Look for php.ini file in this directory / use this file\n"
      "  -n               No configuration (ini) files will be used\n"
      "  -d foo[=bar]     Define INI entry foo with value 'bar'\n"
      "  -f <file>        Parse and execute <file>\n"
      "  -h               This help\n"
      "  -i               PHP information\n"
      "  -l               Syntax check only (lint)\n"
      "  -m               Show compiled in modules\n"
      "  -r <code>        Run PHP <code> without using script tags <?..?>\n"
      "  -v               Version number\n"
      "  --ini            Show configuration file names\n"
      "\n"
      "  args...          Arguments passed to script. Use -- args when first argument\n"
      "                   starts with - or script is read from stdin\n"
      "\n"
      "The ephpm_kv_* store is configured from the [kv] section of `ephpm --config FILE`,\n"
      "else $EPHPM_CONFIG, else ./ephpm.toml if present, else built-in defaults.\n",
      out);
}

std::string IniLineFromDefine(const std::string& def) {
  size_t eq = def.find('=');
  if (eq == std::string::npos) return def + "=1";
  std::string name = def.substr(0, eq);
  std::string value = def.substr(eq + 1);
  if (!value.empty()) {
    unsigned char c = static_cast<unsigned char>(value[0]);
    if (!isalnum(c) && c != '"' && c != '\'') return name + "=\"" + value + "\"";
  }
  return name + "=" + value;
}

int ParseArgs(int argc, char** argv, CliArgs* out) {
  int i = 0;
  while (i < argc) {
    std::string arg = argv[i];
    if (arg == "--") {
      i++;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // first non-option: the script
    bool ok = arg[1] == '-' ? ParseLongOption(argc, argv, &i, out)
                            : ParseShortOptions(argc, argv, &i, out);
    if (!ok) return 1;
    i++;
  }
  // What remains: [script] args... (the script only when no -r/-f and options did not end with --)
  bool ended_by_dashdash = i > 0 && i <= argc && std::string(argv[i - 1]) == "--";
  if (!out->mode_set || out->mode == Mode::kLint) {
    if (!out->script_set && i < argc && !ended_by_dashdash) {
      out->script = argv[i++];
      out->script_set = true;
    }
    if (!out->mode_set) out->mode = out->script_set ? Mode::kScript : Mode::kStdin;
    if (out->mode == Mode::kLint && !out->script_set) {
      fprintf(stderr, "ephpm php: -l needs a file name\n");
      return 1;
    }
  }
  if (i < argc && std::string(argv[i]) == "--") i++;
  for (; i < argc; i++) out->script_args.emplace_back(argv[i]);
  return -1;
}

}  // namespace ephpm::php
