#include "runtime/cli/kv_output.h"

#include <unistd.h>

#include <cinttypes>

namespace ephpm::cli {
namespace {

bool StdoutIsTerminal() { return isatty(STDOUT_FILENO) == 1; }

bool Write(std::string_view bytes) {
  return fwrite(bytes.data(), 1, bytes.size(), stdout) == bytes.size();
}

// A JSON string literal. Bytes >= 0x80 pass through: config paths are UTF-8 in practice.
std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// "268435456 bytes (256.0 MB)", with the binary multiples the config uses (1 KB = 1024 bytes);
// just "72 bytes" below 1 KB.
std::string Bytes(uint64_t bytes) {
  std::string text = std::to_string(bytes) + " bytes";
  if (bytes < 1024) return text;
  const char* units[] = {"KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  snprintf(buf, sizeof(buf), " (%.1f %s)", value, units[unit]);
  return text + buf;
}

void PrintHumanStats(const kv::Stats& st, const kv::Options& o, uint64_t watch_slots,
                     const std::string& name, const std::string& described) {
  auto row = [](const char* label, const std::string& value) {
    printf("%-18s %s\n", label, value.c_str());
  };
  auto number = [](uint64_t n) { return std::to_string(n); };
  row("store", name + " (" + ForTerminal(described) + ")");
  row("keys", number(st.keys));
  std::string used = Bytes(st.used_memory);
  if (st.memory_limit != 0) {
    char pct[32];
    snprintf(pct, sizeof(pct), ", %.1f %% of memory_limit",
             100.0 * static_cast<double>(st.used_memory) / static_cast<double>(st.memory_limit));
    used += pct;
  }
  row("used_memory", used);
  row("memory_limit", st.memory_limit == 0 ? "0 (unlimited)" : Bytes(st.memory_limit));
  row("hits", number(st.hits));
  row("misses", number(st.misses));
  if (st.hits + st.misses != 0) {
    char rate[32];
    snprintf(rate, sizeof(rate), "%.1f %%",
             100.0 * static_cast<double>(st.hits) / static_cast<double>(st.hits + st.misses));
    row("hit_rate", rate);
  } else {
    row("hit_rate", "- (no reads yet)");
  }
  row("evictions", number(st.evictions));
  row("expired", number(st.expired));
  row("discarded_shards", number(st.discarded_shards));
  row("watch_slots", number(watch_slots));
  row("eviction_policy", kv::EvictionPolicyName(o.eviction_policy));
  row("shards", number(o.shards));
}

void PrintJsonStats(const kv::Stats& st, const kv::Options& o, uint64_t watch_slots,
                    const std::string& name, const std::string& described) {
  printf("{\"store\":%s,\"server\":%s,\"keys\":%" PRIu64 ",\"used_memory\":%" PRIu64
         ",\"memory_limit\":%" PRIu64 ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
         ",\"evictions\":%" PRIu64 ",\"expired\":%" PRIu64 ",\"discarded_shards\":%" PRIu64
         ",\"watch_slots\":%" PRIu64 ",\"eviction_policy\":%s,\"shards\":%u}\n",
         JsonString(name).c_str(), JsonString(described).c_str(), st.keys, st.used_memory,
         st.memory_limit, st.hits, st.misses, st.evictions, st.expired, st.discarded_shards,
         watch_slots, JsonString(kv::EvictionPolicyName(o.eviction_policy)).c_str(), o.shards);
}

}  // namespace

std::string ForTerminal(std::string_view text, bool keep_layout) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool layout = c == '\n' || c == '\t';
    if ((c < 0x20 || c == 0x7f) && !(keep_layout && layout)) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool WriteValue(std::string_view value) {
  if (!StdoutIsTerminal()) return Write(value);
  return Write(ForTerminal(value, /*keep_layout=*/true)) && Write("\n");
}

bool ReadAll(FILE* in, std::string* out) {
  out->clear();
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0) out->append(buf, n);
  return ferror(in) == 0;
}

KeyPrinter::KeyPrinter(bool print0) : print0_(print0), terminal_(StdoutIsTerminal()) {}

bool KeyPrinter::Print(std::string_view key) {
  if (terminal_ && !print0_) return Write(ForTerminal(key)) && Write("\n");
  return Write(key) && Write(print0_ ? std::string_view("\0", 1) : std::string_view("\n"));
}

bool KeyPrinter::Finish() { return fflush(stdout) == 0; }

bool PrintStats(kv::Store& store, const std::string& described, bool json) {
  kv::Stats st = store.GetStats();
  uint64_t watch_slots = store.WatchSlotCount();
  if (json) {
    PrintJsonStats(st, store.options(), watch_slots, store.name(), described);
  } else {
    PrintHumanStats(st, store.options(), watch_slots, store.name(), described);
  }
  return fflush(stdout) == 0;
}

}  // namespace ephpm::cli
