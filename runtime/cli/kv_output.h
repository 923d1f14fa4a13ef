// What `ephpm kv` prints (kv_command.h): values and keys as bytes for pipes and as safe text for
// terminals, and the store's counters as aligned text or JSON.
//
// Bytes rule: when stdout is not a terminal, values and keys are written exactly as stored (no
// added newline after a `get` value), so `ephpm kv get K > file` round-trips any bytes. On a
// terminal, control bytes are shown as \xNN, so a stored value can never send escape sequences to
// the operator's terminal.
#ifndef EPHPM_RUNTIME_CLI_KV_OUTPUT_H_
#define EPHPM_RUNTIME_CLI_KV_OUTPUT_H_

#include <stdio.h>

#include <string>
#include <string_view>

#include "runtime/kv/store.h"

namespace ephpm::cli {

// `text` with every control byte (and DEL) as \xNN; with keep_layout, newlines and tabs stay.
std::string ForTerminal(std::string_view text, bool keep_layout = false);

// A `get` result on stdout (see the bytes rule). false when the write failed.
bool WriteValue(std::string_view value);

// Reads `in` to its end into *out. false (errno set) on a read error.
bool ReadAll(FILE* in, std::string* out);

// `scan` output: one key per line (or NUL-terminated with print0) following the bytes rule.
class KeyPrinter {
 public:
  explicit KeyPrinter(bool print0);
  bool Print(std::string_view key);  // false when stdout failed
  bool Finish();

 private:
  bool print0_;
  bool terminal_;
};

// `stats`: the counters of ephpm_kv_stats() plus the store's name and settings. `described` names
// the server ("the ephpm serve for /srv/app/ephpm.toml").
bool PrintStats(kv::Store& store, const std::string& described, bool json);

}  // namespace ephpm::cli

#endif  // EPHPM_RUNTIME_CLI_KV_OUTPUT_H_
