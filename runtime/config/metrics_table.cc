// LoadMetricsTable (metrics_table.h).
//
// `[metrics] listen` is the only key: the address of the separate listener for /metrics,
// /_ephpm/health and /_ephpm/ready. Absent = no listener (off by default: an endpoint that tells
// how busy a server is should not appear on a machine unless its operator asked for it).
#include "runtime/config/metrics_table.h"

namespace ephpm::config {

bool LoadMetricsTable(const toml::table& table, MetricsConfig* out, std::string* key,
                      std::string* reason) {
  for (auto&& [name, node] : table) {
    *key = std::string(name.str());
    if (*key != "listen") {
      *reason = "unknown key (expected one of: listen)";
      return false;
    }
    if (!node.is_string()) {
      *reason = "expected a string \"host:port\", e.g. \"127.0.0.1:9090\"";
      return false;
    }
    std::string value = node.as_string()->get();
    if (!ParseListenAddress(value, &out->listen_address, reason)) return false;
    out->listen = value;
  }
  return true;
}

}  // namespace ephpm::config
