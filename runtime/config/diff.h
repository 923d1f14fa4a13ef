// What a configuration reload (SIGHUP, runtime/http/reload.h) changes: the keys in which a newly
// loaded config differs from the running one, and which of them can take effect without a
// restart. Kept apart from the loader so the rule "what is bound at start-up" lives in one place,
// next to the README's reload table.
#ifndef EPHPM_RUNTIME_CONFIG_DIFF_H_
#define EPHPM_RUNTIME_CONFIG_DIFF_H_

#include <string>
#include <vector>

#include "runtime/config/config.h"

namespace ephpm::config {

struct ConfigChange {
  std::string key;  // as written in ephpm.toml: "[server] listen", "[php.ini] display_errors"
  // false: bound at start-up (the listening socket, the store's arena, PHP module start-up);
  // the running value is kept until the server is restarted.
  bool reloadable = true;
};

// The keys whose values differ, in the order of the README's configuration tables. A [php.ini]
// directive that was removed is not reloadable (PHP's module start-up value cannot be
// restored in a forked worker), nor is one PHP uses only at module start-up (extension,
// opcache.memory_consumption, ...); any other one that was added or changed is.
std::vector<ConfigChange> DiffConfigs(const Config& running, const Config& next);

// Puts the running value of every setting that cannot change without a restart back into
// `next`, so `next` describes what actually runs after the reload.
void KeepStartupSettings(const Config& running, Config* next);

}  // namespace ephpm::config

#endif  // EPHPM_RUNTIME_CONFIG_DIFF_H_
