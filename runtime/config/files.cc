// The config file and the files it names: which config file applies (Locate), reading it
// (Load), the checks of files named inside it ([php] ini_file at load time; [php] worker_script
// and [log] access_log for `serve`), and the path rules (AbsolutePath, --document-root).
//
// Every file named by the user is looked at with stat() before it is opened (opening a device
// can have side effects) and opened with O_NONBLOCK (opening a FIFO would otherwise wait for a
// writer), must be a regular file, and is read at most kMaxConfigFileBytes + 1 bytes: a
// mistaken or hostile path such as /dev/zero, a pipe or a directory is a clear error, never a
// hang or an unbounded read.
#include "runtime/config/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/config/config.h"

namespace ephpm::config {
namespace {

std::string NotRegularReason(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  const char* kind = S_ISFIFO(mode)   ? "a FIFO"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISSOCK(mode) ? "a socket"
                                      : "not a file";
  return std::string("not a regular file (") + kind + ")";
}

std::string TooLargeReason(uint64_t size) {
  return "larger than 1 MB (" + std::to_string(size) + " bytes); not a config file?";
}

// Opens `path` for reading if it is a regular file of at most kMaxConfigFileBytes. Returns the
// fd, or -1 with *reason (and *missing when the file does not exist).
int OpenRegularFile(const std::string& path, std::string* reason, bool* missing) {
  *missing = false;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *missing = errno == ENOENT;
    *reason = std::strerror(errno);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    *reason = NotRegularReason(st.st_mode);
    return -1;
  }
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    *missing = errno == ENOENT;
    *reason = std::strerror(errno);
    return -1;
  }
  // Again on the open file: the path may have been replaced since the stat().
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > kMaxConfigFileBytes) {
    *reason = !S_ISREG(st.st_mode) ? NotRegularReason(st.st_mode) : TooLargeReason(st.st_size);
    close(fd);
    return -1;
  }
  return fd;
}

// Reads a regular file of at most kMaxConfigFileBytes (even if it grows while being read).
bool ReadRegularFile(const std::string& path, std::string* text, std::string* reason,
                     bool* missing) {
  int fd = OpenRegularFile(path, reason, missing);
  if (fd < 0) return false;
  text->clear();
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *reason = std::strerror(errno);
      close(fd);
      return false;
    }
    if (n == 0) break;
    text->append(buf, static_cast<size_t>(n));
    if (text->size() > kMaxConfigFileBytes) {
      *reason = TooLargeReason(text->size());
      close(fd);
      return false;
    }
  }
  close(fd);
  return true;
}

std::string ParentDirectory(const std::string& absolute_path) {
  size_t slash = absolute_path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : absolute_path.substr(0, slash);
}

// The access log is opened for appending (and created) by every worker; checked here so that a
// directory, "/" or an unwritable path stops start-up instead of logging an error per worker.
bool CheckAppendable(const std::string& path, std::string* reason) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    // Character devices (/dev/stdout, /dev/null) are fine to append to; a FIFO would block.
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
      *reason = NotRegularReason(st.st_mode);
      return false;
    }
    int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      *reason = std::string("cannot open for appending: ") + std::strerror(errno);
      return false;
    }
    close(fd);
    return true;
  }
  if (errno != ENOENT) {
    *reason = std::strerror(errno);
    return false;
  }
  std::string dir = ParentDirectory(path);
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *reason = "cannot be created: directory " + Quote(dir) + " does not exist";
    return false;
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    *reason = "cannot be created in " + Quote(dir) + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

// The worker script must be a readable regular file that is, after symlinks, still inside the
// document root: the same rule the router applies to every script it runs.
bool CheckWorkerScript(const Config& config, std::string* reason) {
  const std::string& script = config.php.worker_script;
  std::string why;
  bool missing = false;
  int fd = OpenRegularFile(script, &why, &missing);
  if (fd < 0) {
    *reason = Quote(script) + ": " + why;
    return false;
  }
  close(fd);
  char root[PATH_MAX], resolved[PATH_MAX];
  if (realpath(config.server.document_root.c_str(), root) == nullptr ||
      realpath(script.c_str(), resolved) == nullptr) {
    *reason = Quote(script) + ": " + std::strerror(errno);
    return false;
  }
  std::string prefix = std::string(root) == "/" ? "/" : std::string(root) + "/";
  if (std::string(resolved).rfind(prefix, 0) != 0) {
    *reason = Quote(script) + " resolves to " + Quote(resolved) +
              ", outside the document root " + Quote(root);
    return false;
  }
  return true;
}

}  // namespace

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string Cwd() {
  std::string buf(PATH_MAX, '\0');
  if (getcwd(buf.data(), buf.size()) == nullptr) return "/";
  buf.resize(strlen(buf.c_str()));
  return buf;
}

bool CheckReadableRegularFile(const std::string& path, std::string* reason) {
  bool missing = false;
  int fd = OpenRegularFile(path, reason, &missing);
  if (fd < 0) return false;
  close(fd);
  return true;
}

uint64_t PhysicalMemoryBytes() {
  struct sysinfo info;
  if (sysinfo(&info) != 0) return 0;
  return static_cast<uint64_t>(info.totalram) * info.mem_unit;
}

ConfigLocation Locate(const std::string& flag_path) {
  if (!flag_path.empty()) return {flag_path, true};
  const char* env = getenv("EPHPM_CONFIG");
  if (env != nullptr && env[0] != '\0') return {env, true};
  return {"ephpm.toml", false};
}

LoadResult Load(const std::string& path, bool explicit_path, Config* config) {
  std::string text, reason;
  bool missing = false;
  if (!ReadRegularFile(path, &text, &reason, &missing)) {
    if (missing && !explicit_path) return LoadFromString("", path, "", config);  // defaults
    LoadResult r;
    r.error = path + ": cannot read config file: " + reason;
    return r;
  }
  std::string abs = AbsolutePath(path, "");
  LoadResult r = LoadFromString(text, path, ParentDirectory(abs), config);
  if (r.ok) config->source_path = abs;
  return r;
}

bool CheckServeFiles(const Config& config, std::string* error) {
  const std::string file = config.source_path.empty() ? "built-in defaults" : config.source_path;
  std::string reason;
  if (config.php.mode == PhpMode::kWorker && !CheckWorkerScript(config, &reason)) {
    *error = file + ": [php] worker_script: " + reason;
    return false;
  }
  const std::string& log = config.log.access_log;
  if (!log.empty() && log != "-" && !CheckAppendable(log, &reason)) {
    *error = file + ": [log] access_log: " + Quote(log) + ": " + reason;
    return false;
  }
  return true;
}

std::string AbsolutePath(const std::string& path, const std::string& base) {
  std::string joined;
  if (!path.empty() && path[0] == '/') {
    joined = path;
  } else {
    joined = (base.empty() ? Cwd() : base) + "/" + path;
  }
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= joined.size()) {
    size_t j = joined.find('/', i);
    if (j == std::string::npos) j = joined.size();
    std::string seg = joined.substr(i, j - i);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

bool ApplyDocumentRootOverride(const std::string& dir, Config* config, std::string* error) {
  if (dir.empty()) {
    *error = "--document-root: must not be empty";
    return false;
  }
  ServerConfig& server = config->server;
  PhpConfig& php = config->php;
  std::string new_root = AbsolutePath(dir, "");
  // worker_script is written relative to the document root, so it moves with it. The loader
  // made it AbsolutePath(relative, old root) and refused anything outside, so the old root
  // is its prefix.
  if (!php.worker_script.empty()) {
    size_t skip = server.document_root == "/" ? 1 : server.document_root.size() + 1;
    php.worker_script = AbsolutePath(php.worker_script.substr(skip), new_root);
  }
  server.document_root = new_root;
  return true;
}

}  // namespace ephpm::config
