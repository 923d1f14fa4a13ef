// Internal to runtime/config: the file-system and host facts the config rules depend on, kept
// apart from the TOML walk in config.cc so that every read of a file named by the user goes
// through one bounded, non-blocking path (config.h: "Files are read only if ...").
#ifndef EPHPM_RUNTIME_CONFIG_FILES_H_
#define EPHPM_RUNTIME_CONFIG_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ephpm::config {

// s in double quotes for a message: '"' and '\' escaped, control bytes (NUL, newline) as \xNN,
// so the message is never cut short or split by what the user wrote.
std::string Quote(std::string_view s);

// The current directory, "/" if it cannot be determined.
std::string Cwd();

// Checks that `path` is a regular file this process can read, of at most kMaxConfigFileBytes,
// without reading it and without blocking (a FIFO is refused, not opened for reading). Returns
// false with a reason such as "not a regular file (a FIFO)".
bool CheckReadableRegularFile(const std::string& path, std::string* reason);

// Bytes of physical memory of this machine (sysinfo), 0 if unknown.
uint64_t PhysicalMemoryBytes();

}  // namespace ephpm::config

#endif  // EPHPM_RUNTIME_CONFIG_FILES_H_
