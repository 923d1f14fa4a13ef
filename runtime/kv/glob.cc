#include "runtime/kv/glob.h"

#include <utility>

namespace ephpm::kv {
namespace {

// Whether the class starting at pattern[*i] (just after '[') matches c; leaves *i after the class.
bool MatchClass(std::string_view pattern, size_t* i, unsigned char c) {
  size_t p = *i;
  bool negate = p < pattern.size() && pattern[p] == '^';
  if (negate) ++p;
  bool matched = false;
  while (p < pattern.size()) {
    auto at = [&](size_t k) { return static_cast<unsigned char>(pattern[k]); };
    if (pattern[p] == '\\' && p + 1 < pattern.size()) {
      matched |= at(p + 1) == c;
      p += 2;
    } else if (pattern[p] == ']') {
      ++p;
      break;
    } else if (p + 2 < pattern.size() && pattern[p + 1] == '-') {
      unsigned char lo = at(p), hi = at(p + 2);
      if (lo > hi) std::swap(lo, hi);
      matched |= lo <= c && c <= hi;
      p += 3;
    } else {
      matched |= at(p) == c;
      ++p;
    }
  }
  *i = p;
  return matched != negate;
}

// Whether the single-byte token at pattern[*i] (anything but '*') matches c; leaves *i after it.
bool MatchOne(std::string_view pattern, size_t* i, char c) {
  char token = pattern[(*i)++];
  switch (token) {
    case '?':
      return true;
    case '[':
      return MatchClass(pattern, i, static_cast<unsigned char>(c));
    case '\\':
      if (*i < pattern.size()) token = pattern[(*i)++];
      return token == c;
    default:
      return token == c;
  }
}

}  // namespace

// Every token but '*' consumes exactly one byte, so when a token fails it is enough to let the
// last '*' swallow one more byte and retry from there: an earlier star could only produce
// alignments the last one also reaches.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (p == pattern.size()) return true;
      star_p = p;
      star_t = t;
      continue;
    }
    size_t next = p;
    if (p < pattern.size() && MatchOne(pattern, &next, text[t])) {
      p = next;
      ++t;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace ephpm::kv
