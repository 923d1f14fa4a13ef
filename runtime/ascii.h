// runtime/ascii.h: ASCII case-insensitive comparison, the one rule for HTTP header names, codings
// and tokens (RFC 9110: case-insensitive in ASCII only; no locale, no UTF-8 folding).
#ifndef EPHPM_RUNTIME_ASCII_H_
#define EPHPM_RUNTIME_ASCII_H_

#include <string_view>

namespace ephpm {

inline char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

inline bool AsciiIEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Repeated request headers are joined with ", ", except Cookie, whose pairs are joined with "; ".
inline const char* HeaderJoinSeparator(std::string_view name) {
  return AsciiIEquals(name, "cookie") ? "; " : ", ";
}

}  // namespace ephpm

#endif  // EPHPM_RUNTIME_ASCII_H_
