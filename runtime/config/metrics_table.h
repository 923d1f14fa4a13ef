// Internal to runtime/config: the `[metrics]` table, walked here rather than in config.cc so the
// operator-facing endpoint's settings stay in one place (config.cc calls LoadMetricsTable()).
#ifndef EPHPM_RUNTIME_CONFIG_METRICS_TABLE_H_
#define EPHPM_RUNTIME_CONFIG_METRICS_TABLE_H_

#include <string>

#include <toml++/toml.h>

#include "runtime/config/config.h"

namespace ephpm::config {

// Fills *out from `[metrics]`. false with the offending key in *key and the reason in *reason
// (config.cc turns them into "file: [metrics] key: reason").
bool LoadMetricsTable(const toml::table& table, MetricsConfig* out, std::string* key,
                      std::string* reason);

}  // namespace ephpm::config

#endif  // EPHPM_RUNTIME_CONFIG_METRICS_TABLE_H_
