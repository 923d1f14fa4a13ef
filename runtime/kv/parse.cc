// Parsing of the [kv] settings that the store defines (docs/kv-contract.md 4.4, 4.5).
#include <cctype>

#include "runtime/kv/options.h"

namespace ephpm::kv {

std::optional<EvictionPolicy> ParseEvictionPolicy(std::string_view name) {
  if (name == "noeviction") return EvictionPolicy::kNoEviction;
  if (name == "allkeys-lru") return EvictionPolicy::kAllKeysLru;
  if (name == "volatile-lru") return EvictionPolicy::kVolatileLru;
  if (name == "allkeys-random") return EvictionPolicy::kAllKeysRandom;
  return std::nullopt;
}

const char* EvictionPolicyName(EvictionPolicy policy) {
  switch (policy) {
    case EvictionPolicy::kNoEviction: return "noeviction";
    case EvictionPolicy::kAllKeysLru: return "allkeys-lru";
    case EvictionPolicy::kVolatileLru: return "volatile-lru";
    case EvictionPolicy::kAllKeysRandom: return "allkeys-random";
  }
  return "unknown";
}

bool ParseMemorySize(std::string_view text, uint64_t* bytes, std::string* error) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) {
    *error = "\"" + std::string(text) +
             "\" is not a size: expected digits with an optional KB, MB or GB suffix";
    return false;
  }
  std::string suffix;
  for (char c : text.substr(digits)) suffix += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift;
  if (suffix.empty()) shift = 0;
  else if (suffix == "KB") shift = 10;
  else if (suffix == "MB") shift = 20;
  else if (suffix == "GB") shift = 30;
  else {
    *error = "\"" + std::string(text) + "\" has an unknown unit \"" + std::string(text.substr(digits)) +
             "\": use bytes, KB, MB or GB (e.g. \"256MB\")";
    return false;
  }
  uint64_t value = 0;
  for (char c : text.substr(0, digits)) {
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - d) / 10) {
      *error = "\"" + std::string(text) + "\" is too large";
      return false;
    }
    value = value * 10 + d;
  }
  if (shift != 0 && value > (UINT64_MAX >> shift)) {
    *error = "\"" + std::string(text) + "\" is too large";
    return false;
  }
  *bytes = value << shift;
  return true;
}

}  // namespace ephpm::kv
