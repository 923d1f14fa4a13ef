// The codecs of compression.h. Each thread keeps its own codec state (a zlib stream, a zstd
// context) and resets it per value: setting one up costs more than compressing a 4 KiB value.
#include "runtime/kv/compression.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <cctype>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ephpm::kv {
namespace {

uint32_t Check(const char* data, size_t n) { return static_cast<uint32_t>(XXH3_64bits(data, n)); }

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

// A thread's deflate (compress) and inflate (decompress) streams, created on first use.
class Zlib {
 public:
  ~Zlib() {
    if (deflate_ready_) deflateEnd(&deflate_);
    if (inflate_ready_) inflateEnd(&inflate_);
  }
  // Raw DEFLATE of src into at most `cap` bytes at dst; 0 when it does not fit.
  size_t Compress(int level, const char* src, size_t n, char* dst, size_t cap) {
    if (deflate_ready_ && level != level_) {
      deflateEnd(&deflate_);
      deflate_ready_ = false;
    }
    if (!deflate_ready_) {
      deflate_ = z_stream{};
      if (deflateInit2(&deflate_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
      deflate_ready_ = true;
      level_ = level;
    } else {
      deflateReset(&deflate_);
    }
    deflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src));
    deflate_.avail_in = static_cast<uInt>(n);
    deflate_.next_out = reinterpret_cast<Bytef*>(dst);
    deflate_.avail_out = static_cast<uInt>(cap);
    if (deflate(&deflate_, Z_FINISH) != Z_STREAM_END) return 0;
    return cap - deflate_.avail_out;
  }
  bool Decompress(const char* src, size_t n, char* dst, size_t length) {
    if (!inflate_ready_) {
      inflate_ = z_stream{};
      if (inflateInit2(&inflate_, -15) != Z_OK) return false;
      inflate_ready_ = true;
    } else {
      inflateReset(&inflate_);
    }
    inflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src));
    inflate_.avail_in = static_cast<uInt>(n);
    inflate_.next_out = reinterpret_cast<Bytef*>(dst);
    inflate_.avail_out = static_cast<uInt>(length);
    // The whole stream must end exactly at `length` bytes, with no input left over.
    return inflate(&inflate_, Z_FINISH) == Z_STREAM_END && inflate_.avail_out == 0 &&
           inflate_.avail_in == 0;
  }

 private:
  z_stream deflate_{}, inflate_{};
  bool deflate_ready_ = false, inflate_ready_ = false;
  int level_ = 0;
};

class Zstd {
 public:
  ~Zstd() {
    ZSTD_freeCCtx(c_);
    ZSTD_freeDCtx(d_);
  }
  size_t Compress(int level, const char* src, size_t n, char* dst, size_t cap) {
    if (!c_ && !(c_ = ZSTD_createCCtx())) return 0;
    size_t r = ZSTD_compressCCtx(c_, dst, cap, src, n, level);
    return ZSTD_isError(r) ? 0 : r;
  }
  bool Decompress(const char* src, size_t n, char* dst, size_t length) {
    if (!d_ && !(d_ = ZSTD_createDCtx())) return false;
    // One frame, consumed whole: ZSTD_decompressDCtx would also accept frames appended to it.
    if (ZSTD_findFrameCompressedSize(src, n) != n) return false;
    size_t r = ZSTD_decompressDCtx(d_, dst, length, src, n);
    return !ZSTD_isError(r) && r == length;
  }

 private:
  ZSTD_CCtx* c_ = nullptr;
  ZSTD_DCtx* d_ = nullptr;
};

thread_local Zlib t_zlib;
thread_local Zstd t_zstd;

// Compresses into at most `cap` bytes; 0 when the stream would not fit (or the codec failed).
size_t CompressStream(Compression c, int level, const char* src, size_t n, char* dst, size_t cap) {
  switch (c) {
    case Compression::kGzip:
      return t_zlib.Compress(level, src, n, dst, cap);
    case Compression::kBrotli: {
      size_t out = cap;
      if (!BrotliEncoderCompress(level, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, n,
                                 reinterpret_cast<const uint8_t*>(src), &out,
                                 reinterpret_cast<uint8_t*>(dst))) {
        return 0;
      }
      return n > out * kMaxRatio ? 0 : out;  // beyond what DecodedLength believes: stored raw
    }
    case Compression::kZstd:
      return t_zstd.Compress(level, src, n, dst, cap);
    case Compression::kNone:
      break;
  }
  return 0;
}

bool DecompressStream(uint8_t encoding, const char* src, size_t n, char* dst, size_t length) {
  switch (static_cast<Compression>(encoding)) {
    case Compression::kGzip:
      return t_zlib.Decompress(src, n, dst, length);
    case Compression::kBrotli: {
      BrotliDecoderState* state = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
      if (!state) return false;
      auto* in = reinterpret_cast<const uint8_t*>(src);
      auto* out = reinterpret_cast<uint8_t*>(dst);
      size_t in_left = n, out_left = length;
      BrotliDecoderResult r =
          BrotliDecoderDecompressStream(state, &in_left, &in, &out_left, &out, nullptr);
      BrotliDecoderDestroyInstance(state);
      // The whole input is one stream that ends exactly at `length` bytes.
      return r == BROTLI_DECODER_RESULT_SUCCESS && in_left == 0 && out_left == 0;
    }
    case Compression::kZstd:
      return t_zstd.Decompress(src, n, dst, length);
    case Compression::kNone:
      break;
  }
  return false;  // an encoding byte no codec owns: corrupt
}

}  // namespace

std::optional<Compression> ParseCompression(std::string_view name) {
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "none") return Compression::kNone;
  if (lower == "gzip") return Compression::kGzip;
  if (lower == "brotli" || lower == "br") return Compression::kBrotli;
  if (lower == "zstd") return Compression::kZstd;
  return std::nullopt;
}

const char* CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kBrotli: return "brotli";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

void CompressionLevelRange(Compression compression, int* min, int* max) {
  switch (compression) {
    case Compression::kGzip: *min = 1, *max = 9; return;
    case Compression::kBrotli: *min = BROTLI_MIN_QUALITY, *max = BROTLI_MAX_QUALITY; return;
    case Compression::kZstd: *min = 1, *max = ZSTD_maxCLevel(); return;
    case Compression::kNone: break;
  }
  *min = INT32_MIN, *max = INT32_MAX;
}

std::string CheckCompression(const Options& options) {
  int min, max;
  if (static_cast<uint8_t>(options.compression) > static_cast<uint8_t>(Compression::kZstd)) {
    return "unknown compression algorithm";
  }
  CompressionLevelRange(options.compression, &min, &max);
  if (options.compression_level < min || options.compression_level > max) {
    return "level " + std::to_string(options.compression_level) + " out of range for " +
           CompressionName(options.compression) + " (" + std::to_string(min) + ".." +
           std::to_string(max) + ")";
  }
  return "";
}

uint8_t Encode(const Options& options, std::string_view value, std::string* out) {
  if (options.compression == Compression::kNone || value.size() < options.compression_min_size ||
      value.size() > kMaxDecodedBytes || value.size() <= kEncodedHeaderBytes + 1) {
    return 0;
  }
  // Room for a stream one byte shorter than the value minus the header: anything longer would
  // not save space, and the codec stops as soon as it runs out of room.
  size_t cap = value.size() - kEncodedHeaderBytes - 1;
  out->resize(kEncodedHeaderBytes + cap);
  char* p = out->data();
  size_t n = CompressStream(options.compression, options.compression_level, value.data(),
                            value.size(), p + kEncodedHeaderBytes, cap);
  if (n == 0) return 0;
  PutU32(p, static_cast<uint32_t>(value.size()));
  PutU32(p + 4, Check(value.data(), value.size()));
  out->resize(kEncodedHeaderBytes + n);
  return static_cast<uint8_t>(options.compression);
}

bool RecordedLength(std::string_view stored, size_t* length) {
  if (stored.size() < kEncodedHeaderBytes) return false;
  *length = GetU32(stored.data());
  return true;
}

bool DecodedLength(uint8_t encoding, std::string_view stored, size_t* length) {
  size_t n;
  if (!RecordedLength(stored, &n) || n > kMaxDecodedBytes) return false;
  const char* stream = stored.data() + kEncodedHeaderBytes;
  size_t stream_size = stored.size() - kEncodedHeaderBytes;
  if (encoding == static_cast<uint8_t>(Compression::kZstd)) {
    if (ZSTD_getFrameContentSize(stream, stream_size) != n) return false;
  } else if (n > stream_size * kMaxRatio) {
    return false;
  }
  *length = n;
  return true;
}

bool Decode(uint8_t encoding, std::string_view stored, char* dest, size_t length) {
  size_t recorded;
  if (!DecodedLength(encoding, stored, &recorded) || recorded != length) return false;
  if (!DecompressStream(encoding, stored.data() + kEncodedHeaderBytes,
                        stored.size() - kEncodedHeaderBytes, dest, length)) {
    return false;
  }
  return Check(dest, length) == GetU32(stored.data() + 4);
}

bool DecodeTo(uint8_t encoding, std::string_view stored, std::string* out) {
  size_t length;
  if (!DecodedLength(encoding, stored, &length)) return false;
  out->resize(length);
  return Decode(encoding, stored, out->data(), length);
}

}  // namespace ephpm::kv
