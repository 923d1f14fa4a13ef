// Redis's glob dialect (the MATCH of SCAN and the pattern of KEYS), on byte strings.
//
//   *       any run of bytes, also empty       ?       exactly one byte
//   [abc]   one of the listed bytes            [^abc]  one byte not listed
//   [a-z]   one byte in the range (bytes compare unsigned; a reversed range is swapped)
//   \x      the byte x itself, also inside a class; a trailing \ is a literal backslash
//
// As in Redis, a class left open runs to the end of the pattern, and "[]" matches nothing. The
// empty key is matched like any other ("*", "**" match it); Redis's matcher never matches an
// empty string and special-cases a lone "*" in KEYS and SCAN instead.
// Matching never backtracks further than to the last '*', so it costs O(pattern x text) at worst,
// whatever the pattern.
#ifndef EPHPM_RUNTIME_KV_GLOB_H_
#define EPHPM_RUNTIME_KV_GLOB_H_

#include <string_view>

namespace ephpm::kv {

bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_GLOB_H_
