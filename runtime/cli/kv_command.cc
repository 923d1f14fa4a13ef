// `ephpm kv` (kv_command.h): argument parsing, attaching to the server's store, and one function
// per subcommand. Formatting of what is printed lives in kv_output.cc.
//
// Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT only set a flag, checked between store calls. A
// process killed inside a store call dies holding a shard lock, and the next locker discards that
// whole shard (docs/kv-contract.md 4.1): interrupting `ephpm kv scan` on a big store must not cost
// the server its data.
#include "runtime/cli/kv_command.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/cli/kv_output.h"
#include "runtime/config/config.h"
#include "runtime/kv/arena.h"
#include "runtime/kv/store.h"

namespace ephpm::cli {

struct KvArgs {
  CLI::App* kv = nullptr;
  CLI::App *get = nullptr, *set = nullptr, *del = nullptr, *ttl = nullptr, *stats = nullptr,
           *flush = nullptr, *scan = nullptr;
  CLI::Option* value_option = nullptr;

  std::string config_path;
  std::string listen;
  std::string key;
  std::string value;
  bool value_from_stdin = false;
  int64_t ttl_seconds = 0;
  bool json = false;
  bool yes = false;
  std::string match;
  size_t count = 100;
  uint64_t limit = 0;
  bool print0 = false;
};

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitMissingKey = 3;
constexpr int kExitWrongType = 4;
constexpr int kExitInterrupted = 130;

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) { g_interrupted.store(true, std::memory_order_relaxed); }

void DeferInterrupts() {
  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
}

void LogKvEvent(const std::string& message) {
  fprintf(stderr, "ephpm kv: warning: %s\n", message.c_str());
}

// The running server's store, and the words that name it in messages.
struct Target {
  std::unique_ptr<kv::Store> store;
  std::string described;  // "the ephpm serve for /srv/app/ephpm.toml"
};

// Finds the config as `ephpm serve` would, derives the store's name from it and attaches.
// Returns the exit code to stop with, or 0 with *target filled.
int Attach(const KvArgs& a, Target* target) {
  config::ConfigLocation where = config::Locate(a.config_path);
  config::Config cfg;
  config::LoadResult loaded = config::Load(where.path, where.explicit_path, &cfg);
  for (const auto& w : loaded.warnings) fprintf(stderr, "ephpm kv: warning: %s\n", w.c_str());
  if (!loaded.ok) {
    fprintf(stderr, "ephpm kv: %s\n", loaded.error.c_str());
    return kExitUsage;
  }
  std::string error;
  if (!a.listen.empty() && !config::ApplyListenOverride(a.listen, &cfg, &error)) {
    fprintf(stderr, "ephpm kv: %s\n", error.c_str());
    return kExitUsage;
  }
  std::string name = kv::Store::NameFor(cfg.source_path, cfg.server.listen);
  target->described = cfg.source_path.empty()
                          ? "the ephpm serve without a config file listening on " +
                                cfg.server.listen + " (" + where.path + " not found)"
                          : "the ephpm serve for " + cfg.source_path;
  kv::AttachError why = kv::AttachError::kNone;
  target->store = kv::Store::AttachNamed(name, &why, &error);
  if (target->store) return 0;
  if (why == kv::AttachError::kNotFound || why == kv::AttachError::kOwnerGone) {
    fprintf(stderr, "ephpm kv: no ephpm serve is running for %s (store %s: %s)\n",
            cfg.source_path.empty() ? ("listen address " + cfg.server.listen).c_str()
                                    : cfg.source_path.c_str(),
            name.c_str(),
            why == kv::AttachError::kNotFound ? "not found"
                                              : "left by a server that is no longer running");
  } else {
    fprintf(stderr, "ephpm kv: cannot attach to the store of %s: %s\n",
            target->described.c_str(), error.c_str());
  }
  return kExitFailure;
}

bool KeyFits(const std::string& key) {
  if (key.size() <= kv::kMaxKeyLength) return true;
  fprintf(stderr, "ephpm kv: KEY is %zu bytes; keys are at most %zu bytes\n", key.size(),
          kv::kMaxKeyLength);
  return false;
}

int Get(kv::Store& store, const KvArgs& a) {
  std::string value;
  if (store.Get(a.key, &value)) return WriteValue(value) ? 0 : kExitFailure;
  // A RESP hash reads as missing through the PHP API (docs/kv-contract.md 4.8); here it is
  // named, as redis-cli's GET does, rather than called missing.
  kv::ValueType type;
  if (store.TypeOf(a.key, &type) && type != kv::ValueType::kString) {
    fprintf(stderr,
            "ephpm kv get: WRONGTYPE Operation against a key holding the wrong kind of value: %s "
            "is a hash (written over RESP)\n",
            ForTerminal(a.key).c_str());
    return kExitWrongType;
  }
  fprintf(stderr, "ephpm kv get: no such key: %s\n", ForTerminal(a.key).c_str());
  return kExitMissingKey;
}

int Set(kv::Store& store, KvArgs& a) {
  bool has_value = a.value_option->count() > 0;
  if (has_value == a.value_from_stdin) {
    fprintf(stderr, "ephpm kv set: give the value either as VALUE or with --stdin (not %s)\n",
            has_value ? "both" : "neither");
    return kExitUsage;
  }
  if (a.value_from_stdin && !ReadAll(stdin, &a.value)) {
    perror("ephpm kv set: reading the value from stdin");
    return kExitFailure;
  }
  if (!store.Set(a.key, a.value, a.ttl_seconds)) {
    const kv::Options& o = store.options();
    fprintf(stderr,
            "ephpm kv set: the store refused the write of %zu bytes (no room in the key's shard "
            "under eviction_policy %s; memory_limit %llu over %u shards)\n",
            a.value.size(), kv::EvictionPolicyName(o.eviction_policy),
            static_cast<unsigned long long>(o.memory_limit), o.shards);
    return kExitFailure;
  }
  printf("OK\n");
  return 0;
}

int Flush(kv::Store& store, const KvArgs& a, const std::string& described) {
  uint64_t keys = store.GetStats().keys;
  if (!a.yes) {
    fprintf(stderr,
            "ephpm kv flush: this removes every key (%llu now) of the store of %s; run again "
            "with --yes to do it\n",
            static_cast<unsigned long long>(keys), described.c_str());
    return kExitUsage;
  }
  store.FlushAll();
  printf("flushed %llu keys\n", static_cast<unsigned long long>(keys));
  return 0;
}

// Prints keys as each step returns them, so output starts at once and memory stays bounded.
int Scan(kv::Store& store, const KvArgs& a) {
  KeyPrinter printer(a.print0);
  uint64_t printed = 0;
  uint64_t cursor = 0;
  bool stopped = false;
  do {
    std::vector<std::string> keys;
    cursor = store.Scan(cursor, a.count, a.match, &keys);
    for (const std::string& key : keys) {
      if (a.limit != 0 && printed == a.limit) {
        stopped = true;
        break;
      }
      if (!printer.Print(key)) return kExitFailure;
      ++printed;
    }
    if (g_interrupted.load(std::memory_order_relaxed)) return kExitInterrupted;
  } while (cursor != 0 && !stopped);
  if (!printer.Finish()) return kExitFailure;
  fprintf(stderr,
          "ephpm kv scan: %llu key%s%s%s. %s\n", static_cast<unsigned long long>(printed),
          printed == 1 ? "" : "s", a.match.empty() ? "" : " matching ",
          a.match.empty() ? "" : ForTerminal(a.match).c_str(),
          stopped ? "Stopped at --limit."
                  : "Every key present during the whole scan is listed once; keys written or "
                    "removed meanwhile may or may not be.");
  return 0;
}

int Dispatch(KvArgs& a, const Target& target) {
  kv::Store& store = *target.store;
  if (*a.get) return Get(store, a);
  if (*a.set) return Set(store, a);
  if (*a.del) {
    printf("%d\n", store.Del(a.key));
    return 0;
  }
  if (*a.ttl) {
    printf("%lld\n", static_cast<long long>(store.Ttl(a.key)));
    return 0;
  }
  if (*a.stats) {
    return PrintStats(store, target.described, a.json) ? 0 : kExitFailure;
  }
  if (*a.flush) return Flush(store, a, target.described);
  return Scan(store, a);
}

CLI::App* AddKeyed(CLI::App* kv, KvArgs* a, const char* name, const char* help) {
  CLI::App* sub = kv->add_subcommand(name, help);
  sub->add_option("KEY", a->key, "the key (any bytes but NUL; use -- before a key starting "
                                 "with '-')")
      ->required();
  return sub;
}

void AddSubcommands(CLI::App* kv, KvArgs* a) {
  a->get = AddKeyed(kv, a, "get",
                    "Print a key's value: the raw bytes when stdout is not a terminal; on a "
                    "terminal control bytes as \\xNN and a newline. Exit 3 if missing, 4 if a "
                    "RESP hash");
  a->set = AddKeyed(kv, a, "set", "Store a value (persistent unless --ttl)");
  a->value_option = a->set->add_option("VALUE", a->value, "the value");
  a->set->add_flag("--stdin", a->value_from_stdin,
                   "read the value's bytes from stdin (binary-safe) instead of VALUE");
  a->set->add_option("--ttl", a->ttl_seconds, "expire after N seconds (0 = never)")
      ->check(CLI::NonNegativeNumber);
  a->del = AddKeyed(kv, a, "del", "Delete a key: prints 1 if it existed, else 0");
  a->ttl = AddKeyed(kv, a, "ttl",
                    "Print the seconds left: -1 persistent, -2 missing (as ephpm_kv_ttl)");
  a->stats = kv->add_subcommand("stats", "Print the store's counters (as ephpm_kv_stats, and more)");
  a->stats->add_flag("--json", a->json, "one JSON object instead of aligned text");
  a->flush = kv->add_subcommand("flush", "Remove every key of the server's store");
  a->flush->add_flag("--yes", a->yes, "really do it (refused without)");
  a->scan = kv->add_subcommand(
      "scan",
      "List keys, one per line, while the server runs: every key present during the whole scan "
      "is listed once; keys written or removed meanwhile may or may not be");
  a->scan->add_option("--match", a->match, "only keys matching this Redis glob (* ? [a-z] \\x)");
  a->scan->add_option("--count", a->count, "keys examined per step (bounds each lock hold)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  a->scan->add_option("--limit", a->limit, "stop after N keys (0 = all)");
  a->scan->add_flag("--print0", a->print0,
                    "end each key with a NUL byte instead of a newline (keys with newlines)");
}

}  // namespace

KvCommand::KvCommand(CLI::App* app) : args_(std::make_unique<KvArgs>()) {
  KvArgs* a = args_.get();
  a->kv = app->add_subcommand("kv", "Look into and change the store of a running ephpm serve");
  a->kv->add_option("--config", a->config_path,
                    "the server's ephpm.toml (default: $EPHPM_CONFIG, ./ephpm.toml)");
  a->kv->add_option("--listen", a->listen,
                    "the listen address of a server started without a config file");
  a->kv->require_subcommand(1);
  AddSubcommands(a->kv, a);
}

KvCommand::~KvCommand() = default;

bool KvCommand::selected() const { return args_->kv->parsed(); }

int KvCommand::Run(const std::string& global_config) {
  KvArgs& a = *args_;
  if (a.config_path.empty()) a.config_path = global_config;
  bool keyed = *a.get || *a.set || *a.del || *a.ttl;
  if (keyed && !KeyFits(a.key)) return kExitUsage;
  DeferInterrupts();
  kv::SetEventLog(LogKvEvent);
  Target target;
  if (int rc = Attach(a, &target)) return rc;
  int rc = Dispatch(a, target);
  if (fflush(stdout) != 0 && rc == 0) rc = kExitFailure;
  return g_interrupted.load(std::memory_order_relaxed) ? kExitInterrupted : rc;
}

}  // namespace ephpm::cli
