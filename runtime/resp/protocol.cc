#include "runtime/resp/protocol.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace ephpm::resp {
namespace {

// Reads "<prefix><integer>\r\n" at input[pos]. kIncomplete when the line is not all there yet.
ParseStatus ReadLengthLine(std::string_view input, size_t pos, int64_t* value, size_t* next,
                           std::string* error, const char* what) {
  size_t end = input.find("\r\n", pos + 1);
  if (end == std::string_view::npos) {
    if (input.size() - pos > kMaxInlineBytes) {
      *error = std::string("Protocol error: too big ") + what + " count string";
      return ParseStatus::kError;
    }
    return ParseStatus::kIncomplete;
  }
  const char* first = input.data() + pos + 1;
  const char* last = input.data() + end;
  auto [ptr, ec] = std::from_chars(first, last, *value);
  if (ec != std::errc() || ptr != last || first == last) {
    *error = std::string("Protocol error: invalid ") + what + " length";
    return ParseStatus::kError;
  }
  *next = end + 2;
  return ParseStatus::kCommand;
}

ParseStatus ParseInline(std::string_view input, std::vector<std::string_view>* args,
                        size_t* consumed, std::string* error) {
  size_t end = input.find('\n');
  if (end == std::string_view::npos) {
    if (input.size() > kMaxInlineBytes) {
      *error = "Protocol error: too big inline request";
      return ParseStatus::kError;
    }
    return ParseStatus::kIncomplete;
  }
  std::string_view line = input.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (size_t i = 0; i < line.size();) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) args->push_back(line.substr(start, i - start));
  }
  *consumed = end + 1;
  return ParseStatus::kCommand;
}

}  // namespace

ParseStatus ParseCommand(std::string_view input, size_t max_bulk,
                         std::vector<std::string_view>* args, size_t* consumed,
                         std::string* error) {
  args->clear();
  if (input.empty()) return ParseStatus::kIncomplete;
  if (input[0] != '*') return ParseInline(input, args, consumed, error);
  int64_t count = 0;
  size_t pos = 0;
  ParseStatus st = ReadLengthLine(input, 0, &count, &pos, error, "multibulk");
  if (st != ParseStatus::kCommand) return st;
  if (count > kMaxArguments) {
    *error = "Protocol error: invalid multibulk length";
    return ParseStatus::kError;
  }
  // Each argument takes at least 6 bytes ("$0\r\n\r\n"): a count the input cannot hold yet is
  // not reserved for.
  args->reserve(static_cast<size_t>(count > 0 ? std::min<int64_t>(count, 1024) : 0));
  for (int64_t i = 0; i < count; ++i) {
    if (pos >= input.size()) return ParseStatus::kIncomplete;
    if (input[pos] != '$') {
      *error = std::string("Protocol error: expected '$', got '") + input[pos] + "'";
      return ParseStatus::kError;
    }
    int64_t len = 0;
    st = ReadLengthLine(input, pos, &len, &pos, error, "bulk");
    if (st != ParseStatus::kCommand) return st;
    if (len < 0 || static_cast<uint64_t>(len) > max_bulk) {
      *error = "Protocol error: invalid bulk length";
      return ParseStatus::kError;
    }
    size_t n = static_cast<size_t>(len);
    if (input.size() - pos < n + 2) return ParseStatus::kIncomplete;
    if (input[pos + n] != '\r' || input[pos + n + 1] != '\n') {
      *error = "Protocol error: bulk string not terminated by CRLF";
      return ParseStatus::kError;
    }
    args->push_back(input.substr(pos, n));
    pos += n + 2;
  }
  *consumed = pos;
  return ParseStatus::kCommand;
}

void AppendSimple(std::string* out, std::string_view text) {
  out->push_back('+');
  out->append(text);
  out->append("\r\n");
}

void AppendError(std::string* out, std::string_view text) {
  out->push_back('-');
  size_t start = out->size();
  out->append(text);
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') (*out)[i] = ' ';
  }
  out->append("\r\n");
}

static void AppendPrefixed(std::string* out, char prefix, int64_t value) {
  char buf[24];
  buf[0] = prefix;
  char* end = std::to_chars(buf + 1, buf + sizeof buf, value).ptr;
  out->append(buf, static_cast<size_t>(end - buf));
  out->append("\r\n");
}

void AppendInteger(std::string* out, int64_t value) { AppendPrefixed(out, ':', value); }

void AppendBulk(std::string* out, std::string_view value) {
  AppendPrefixed(out, '$', static_cast<int64_t>(value.size()));
  out->append(value);
  out->append("\r\n");
}

void AppendNull(std::string* out) { out->append("$-1\r\n"); }

void AppendArrayHeader(std::string* out, size_t count) {
  AppendPrefixed(out, '*', static_cast<int64_t>(count));
}

void AppendNullArray(std::string* out) { out->append("*-1\r\n"); }

}  // namespace ephpm::resp
