// `ephpm kv`: an operator's view of the store of a running `ephpm serve` (README.md, "Looking into
// the store: ephpm kv").
//
//   ephpm [--config FILE] kv get KEY                 value bytes (see kv_command.cc for tty rules)
//   ephpm [--config FILE] kv set KEY VALUE|--stdin [--ttl N]
//   ephpm [--config FILE] kv del KEY | ttl KEY
//   ephpm [--config FILE] kv stats [--json]
//   ephpm [--config FILE] kv flush --yes
//   ephpm [--config FILE] kv scan [--match GLOB] [--count N] [--limit N] [--print0]
//
// It attaches to the server's named arena by the rule `ephpm php` uses (kv::Store::NameFor of the
// config file's path, or of the listen address without one) and never creates a store: with no
// server there is nothing to look at, so it says so and exits 1.
//
// Exit codes: 0 done; 1 no server for that config, the store cannot be attached (another ephpm
// version's, another user's), or a write was refused; 2 bad arguments (CLI11), a bad config, or
// `flush` without --yes; 3 `get` of a missing key; 4 `get` of a RESP hash (WRONGTYPE); 130
// interrupted.
#ifndef EPHPM_RUNTIME_CLI_KV_COMMAND_H_
#define EPHPM_RUNTIME_CLI_KV_COMMAND_H_

#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace ephpm::cli {

struct KvArgs;

class KvCommand {
 public:
  // Adds `kv` and its subcommands to `app`; parsing fills this object.
  explicit KvCommand(CLI::App* app);
  ~KvCommand();
  KvCommand(const KvCommand&) = delete;
  KvCommand& operator=(const KvCommand&) = delete;

  // Whether the parsed command line chose `kv`.
  bool selected() const;
  // Runs the chosen subcommand and returns the exit code. `global_config` is the --config given
  // before `kv` (one given after it wins).
  int Run(const std::string& global_config);

 private:
  std::unique_ptr<KvArgs> args_;
};

}  // namespace ephpm::cli

#endif  // EPHPM_RUNTIME_CLI_KV_COMMAND_H_
