// Value compression ([kv] compression, compression_level, compression_min_size): the stored form
// of a compressed value and the three codecs behind it (Debian's zlib, libbrotli, libzstd).
//
// A value is stored compressed only when that makes it smaller, and the entry's encoding byte
// (EntryHeader::encoding, a ValueEncoding, numbered like Compression) says so; nothing is ever
// guessed from the bytes. A compressed value is stored as
//
//   [original length: u32 LE][check: low 32 bits of XXH3-64 of the original, u32 LE][stream]
//
// where the stream is raw DEFLATE for gzip (gzip's own 18-byte header and CRC would only add
// bytes: the check covers corruption), a brotli stream, or a zstd frame. The length lets a reader
// allocate the exact result once, before decoding; it is believed only when the stream could
// produce it (zstd: the frame records the same size; gzip, brotli: at most kMaxRatio times the
// stream, DEFLATE's own limit, which brotli values are held to when written) and it is at most
// kMaxDecodedBytes, so a corrupt length never causes a large allocation. A stream that fails,
// ends early or late, or does not match the check is corrupt. Every function here is plain computation: callers run them with no shard lock held
// (docs/kv-contract.md section 4.9).
#ifndef EPHPM_RUNTIME_KV_COMPRESSION_H_
#define EPHPM_RUNTIME_KV_COMPRESSION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/kv/options.h"

namespace ephpm::kv {

inline constexpr size_t kEncodedHeaderBytes = 8;
// Larger values are stored uncompressed, and a stored length above it is corrupt: no read ever
// allocates more than this for a compressed value.
inline constexpr uint64_t kMaxDecodedBytes = 256ull << 20;
inline constexpr uint64_t kMaxRatio = 1032;

// "none", "gzip", "brotli", "zstd" (ePHPm's names; case-insensitive, ePHPm's "br" too).
std::optional<Compression> ParseCompression(std::string_view name);
const char* CompressionName(Compression compression);
// The levels a codec accepts: gzip 1..9, brotli 0..11, zstd 1..22 (none: any).
void CompressionLevelRange(Compression compression, int* min, int* max);
// Why the compression settings of `options` cannot be used ("" when they can).
std::string CheckCompression(const Options& options);

// The stored form of `value` under `options`: its encoding (a ValueEncoding) with the encoded
// bytes in *out, or 0 (raw, *out unspecified) when the value is shorter than the threshold,
// longer than kMaxDecodedBytes, compression is off, or compressing would not make it smaller.
uint8_t Encode(const Options& options, std::string_view value, std::string* out);
// The original length recorded in an encoded value's header; false when the header is cut short.
bool RecordedLength(std::string_view stored, size_t* length);
// The recorded length, when the stream could have produced it (see above); false otherwise.
bool DecodedLength(uint8_t encoding, std::string_view stored, size_t* length);
// Decodes `stored` (encoding `encoding`) into exactly `length` (DecodedLength) bytes at dest.
// false when it is corrupt (dest then holds garbage).
bool Decode(uint8_t encoding, std::string_view stored, char* dest, size_t length);
// DecodedLength + Decode into *out.
bool DecodeTo(uint8_t encoding, std::string_view stored, std::string* out);

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_COMPRESSION_H_
