// The named arena: a POSIX shared-memory object in /dev/shm that `ephpm serve` creates and
// `ephpm php` attaches to (store.h, "Trust model").
//
// What is checked, and why:
//  * Ownership before anything is mapped. The name carries the uid (Store::NameFor), but
//    /dev/shm is writable by everyone, so another user can still create an object of our name
//    first. An object is used only when it is a regular file owned by our effective uid with mode
//    0600 (so nobody else can have written it); create replaces a stale object only if it is ours.
//  * Every page reserved at creation (posix_fallocate). The object would otherwise be sparse: a
//    tmpfs smaller than the store (Docker's 64 MB /dev/shm) fills up later and every process that
//    touches a page it cannot back dies of SIGBUS. A reservation that fails is a start-up error
//    naming /dev/shm, its size and the fix. Not done for memory_limit = 0 (unlimited), whose
//    address range is far larger than what it will use.
//  * The whole header on attach: magic, version, and every size and offset recomputed from the
//    shard count and region size (LayoutFor) and compared, plus the per-shard words that offsets
//    are derived from. A corrupt or foreign arena is refused with a message, never followed.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runtime/kv/arena.h"
#include "runtime/kv/compression.h"

namespace ephpm::kv {
namespace {

constexpr const char* kShmDirectory = "/dev/shm";

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string MiB(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

char* MapFd(int fd, size_t size, std::string* error) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (p == MAP_FAILED) {
    *error = Errno("mmap of the named store arena failed");
    return nullptr;
  }
  return static_cast<char*>(p);
}

// The creating server of a well-formed header still runs (pid and start time both match).
bool CreatorAlive(const ArenaHeader* h) {
  if (h->owner_pid <= 0) return false;
  if (kill(h->owner_pid, 0) != 0 && errno == ESRCH) return false;
  return ProcessStartTime(h->owner_pid) == h->owner_start_time;
}

// kNone when the object behind fd may be used by us: a regular file of our euid, mode 0600.
AttachError CheckOwnership(int fd, const std::string& name, std::string* error) {
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    *error = Errno("fstat " + name);
    return AttachError::kSystem;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "store " + name + " is not a shared-memory object";
    return AttachError::kCorrupt;
  }
  if (st.st_uid != geteuid()) {
    *error = "store " + name + " (" + kShmDirectory + name + ") belongs to uid " +
             std::to_string(st.st_uid) + ", not to this user (uid " + std::to_string(geteuid()) +
             "): refusing to use it; its owner (or root) must remove it";
    return AttachError::kNotOurs;
  }
  if ((st.st_mode & 07777) != 0600) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    *error = "store " + name + " (" + kShmDirectory + name + ") has mode " + mode +
             ", not 0600: other users may have written it, refusing to use it; stop its server "
             "and remove it";
    return AttachError::kNotOurs;
  }
  return AttachError::kNone;
}

// kNone when the header describes exactly an arena of our layout filling `size` bytes; then
// *layout holds it. Reads only the header and the shard array, each after checking it fits.
AttachError ValidateHeader(const char* base, uint64_t size, const std::string& name,
                           ArenaLayout* layout, std::string* error) {
  const auto* h = reinterpret_cast<const ArenaHeader*>(base);
  auto corrupt = [&](const std::string& what) {
    *error = "store " + name + " is not a usable ephpm store arena (" + what +
             "); stop its server, or remove it if none runs";
    return AttachError::kCorrupt;
  };
  if (h->magic != kArenaMagic || h->ready.load(std::memory_order_acquire) != 1) {
    return corrupt("not initialised");
  }
  if (h->layout_version != kLayoutVersion) {
    *error = "store " + name + " has layout version " + std::to_string(h->layout_version) +
             ", this ephpm build expects " + std::to_string(kLayoutVersion) +
             "; use the server's own ephpm binary";
    return AttachError::kIncompatible;
  }
  ArenaLayout l;
  if (!LayoutFor(h->shard_count, h->region_bytes, &l)) return corrupt("shard count or size");
  if (h->mapping_size != size || l.total != size) return corrupt("size mismatch");
  if (h->capacity != l.capacity || h->bucket_count != l.bucket_count ||
      h->shards_offset != l.shards_offset || h->slots_offset != l.slots_offset ||
      h->buckets_offset != l.buckets_offset || h->dense_offset != l.dense_offset ||
      h->ttl_offset != l.ttl_offset || h->regions_offset != l.regions_offset) {
    return corrupt("offsets");
  }
  if (h->memory_limit != 0 && l.region_bytes * l.shard_count > h->memory_limit) {
    return corrupt("memory limit");
  }
  if (h->eviction_policy > static_cast<uint32_t>(EvictionPolicy::kAllKeysRandom)) {
    return corrupt("eviction policy");
  }
  Options compression;
  compression.compression = static_cast<Compression>(h->compression);
  compression.compression_level = h->compression_level;
  if (h->compression > 255 || !CheckCompression(compression).empty()) return corrupt("compression");
  const auto* shards = reinterpret_cast<const Shard*>(base + l.shards_offset);
  const uint64_t units = l.region_bytes / kUnit;
  for (uint32_t i = 0; i < l.shard_count; ++i) {
    const Shard& s = shards[i];
    if (s.alloc.end != units || s.alloc.top == 0 || s.alloc.top > units ||
        s.bucket_mask != l.bucket_count - 1 || s.count > l.capacity ||
        s.ttl_count > l.capacity) {
      return corrupt("shard " + std::to_string(i));
    }
  }
  *layout = l;
  return AttachError::kNone;
}

// posix_fallocate over the whole object, retried when a signal interrupts it.
int Reserve(int fd, uint64_t bytes) {
  int rc;
  do {
    rc = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  } while (rc == EINTR);
  return rc;
}

std::string NoRoomMessage(const std::string& name, uint64_t total, uint64_t memory_limit,
                          int rc) {
  struct statvfs vfs{};
  std::string tmpfs = kShmDirectory;
  if (statvfs(kShmDirectory, &vfs) == 0) {
    tmpfs += " (size " + MiB(uint64_t{vfs.f_blocks} * vfs.f_frsize) + ", " +
             MiB(uint64_t{vfs.f_bavail} * vfs.f_frsize) + " free)";
  }
  return "cannot reserve " + MiB(total) + " of shared memory for the key-value store " + name +
         " in " + tmpfs + ": " + std::strerror(rc) + ". [kv] memory_limit is " +
         MiB(memory_limit) + " (plus " + MiB(total - memory_limit) +
         " of index). Fix: give the container more shared memory (docker run --shm-size=" +
         std::to_string((total >> 20) + 32) +
         "m; Kubernetes: an emptyDir with medium: Memory mounted on /dev/shm), or lower [kv] "
         "memory_limit";
}

}  // namespace

bool Arena::CreateNamedObject(const ArenaLayout& l, std::string* error) {
  const char* name = name_.c_str();
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0 && errno == EEXIST) {
    int existing = shm_open(name, O_RDWR, 0);
    if (existing < 0 && errno != ENOENT) {
      *error = errno == EACCES ? "store " + name_ + " (" + kShmDirectory + name_ +
                                     ") exists and belongs to another user: refusing to use it; "
                                     "its owner (or root) must remove it"
                               : Errno("shm_open " + name_);
      return false;
    }
    if (existing >= 0) {
      struct stat st{};
      bool ours = fstat(existing, &st) == 0 && st.st_uid == geteuid();
      close(existing);
      if (!ours) {
        *error = "store " + name_ + " (" + kShmDirectory + name_ + ") exists and belongs to uid " +
                 std::to_string(st.st_uid) + ", not to this user: refusing to use or replace it; "
                 "its owner (or root) must remove it";
        return false;
      }
      AttachError why;
      std::string attach_error;
      if (auto live = Attach(name_, &why, &attach_error)) {
        *error = "store " + name_ + " is in use by a running process (pid " +
                 std::to_string(live->header()->owner_pid) + ")";
        return false;
      }
    }
    // Ours, and stale (owner gone), unusable (corrupt, another version, a widened mode: even if its
    // server still runs, nobody may attach to it any more), or already gone: replace it.
    shm_unlink(name);
    fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  }
  if (fd < 0) {
    *error = Errno("shm_open " + name_);
    return false;
  }
  auto fail = [&](const std::string& message) {
    *error = message;
    close(fd);
    shm_unlink(name);
    return false;
  };
  // The creation mode went through our umask; the object must be exactly 0600 to be attachable.
  if (fchmod(fd, 0600) != 0) return fail(Errno("fchmod " + name_));
  if (ftruncate(fd, static_cast<off_t>(l.total)) != 0) return fail(Errno("ftruncate " + name_));
  if (options_.memory_limit != 0) {
    if (int rc = Reserve(fd, l.total); rc != 0) {
      return fail(NoRoomMessage(name_, l.total, options_.memory_limit, rc));
    }
    pages_reserved_ = true;
  }
  base_ = MapFd(fd, l.total, error);
  close(fd);
  if (!base_) {
    shm_unlink(name);
    return false;
  }
  return true;
}

std::unique_ptr<Arena> Arena::Attach(const std::string& name, AttachError* why,
                                     std::string* error) {
  int fd = shm_open(name.c_str(), O_RDWR, 0);  // glibc adds O_NOFOLLOW
  if (fd < 0) {
    if (errno == ENOENT) {
      *why = AttachError::kNotFound;
      *error = "no running ephpm server owns store " + name;
    } else if (errno == EACCES) {
      *why = AttachError::kNotOurs;
      *error = "store " + name + " belongs to another user: refusing to use it";
    } else {
      *why = AttachError::kSystem;
      *error = Errno("shm_open " + name);
    }
    return nullptr;
  }
  *why = CheckOwnership(fd, name, error);
  struct stat st{};
  if (*why == AttachError::kNone && fstat(fd, &st) == 0 &&
      static_cast<uint64_t>(st.st_size) < sizeof(ArenaHeader)) {
    *why = AttachError::kCorrupt;
    *error = "store " + name + " is not an ephpm store arena (too small)";
  }
  if (*why != AttachError::kNone) {
    close(fd);
    return nullptr;
  }
  size_t size = static_cast<size_t>(st.st_size);
  char* base = MapFd(fd, size, error);
  close(fd);
  if (!base) {
    *why = AttachError::kSystem;
    return nullptr;
  }
  std::unique_ptr<Arena> arena(new Arena());
  arena->base_ = base;
  arena->size_ = size;
  arena->kind_ = Kind::kNamed;
  arena->name_ = name;
  arena->creator_pid_ = 0;  // attached: never unlinks
  *why = ValidateHeader(base, size, name, &arena->layout_, error);
  if (*why != AttachError::kNone) return nullptr;
  const ArenaHeader* h = arena->header();
  if (!CreatorAlive(h)) {
    *why = AttachError::kOwnerGone;
    *error = "store " + name + " belongs to a server that is no longer running (pid " +
             std::to_string(h->owner_pid) + ")";
    return nullptr;
  }
  arena->pages_reserved_ = h->pages_reserved != 0;
  arena->lock_domain_ = LockDomainOf(base, /*shared=*/true);
  arena->options_.memory_limit = h->memory_limit;
  arena->options_.eviction_policy = static_cast<EvictionPolicy>(h->eviction_policy);
  arena->options_.shards = h->shard_count;
  arena->options_.compression = static_cast<Compression>(h->compression);
  arena->options_.compression_level = h->compression_level;
  arena->options_.compression_min_size = h->compression_min_size;
  return arena;
}

}  // namespace ephpm::kv
