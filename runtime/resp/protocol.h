// RESP2 framing: the request parser and the reply encoders of the Redis-protocol listener.
//
// Requests are what Redis accepts: a multibulk array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`,
// what every client library sends) or an inline command (`GET k\r\n`, what telnet sends). The
// parser works on the bytes received so far and never copies: the arguments are views into the
// input. Every length is checked against the limits before anything is reserved, so a hostile
// frame costs at most max_input_buffer bytes and a protocol error (the connection is then closed).
#ifndef EPHPM_RUNTIME_RESP_PROTOCOL_H_
#define EPHPM_RUNTIME_RESP_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ephpm::resp {

// Redis's own limits: at most 1M arguments per command and 64 KiB for an inline command or a
// length line.
inline constexpr int64_t kMaxArguments = 1024 * 1024;
inline constexpr size_t kMaxInlineBytes = 64 * 1024;

enum class ParseStatus {
  kIncomplete,  // need more bytes; nothing consumed
  kCommand,     // *args holds a command (possibly empty: skip it), *consumed bytes used
  kError,       // protocol error: reply *error and close the connection
};

// Parses the first command in `input`. max_bulk bounds a single argument's length.
ParseStatus ParseCommand(std::string_view input, size_t max_bulk,
                         std::vector<std::string_view>* args, size_t* consumed,
                         std::string* error);

// Reply encoders: each appends one RESP2 value to *out.
void AppendSimple(std::string* out, std::string_view text);  // +OK
void AppendError(std::string* out, std::string_view text);   // -ERR ... (CR/LF become spaces)
void AppendInteger(std::string* out, int64_t value);
void AppendBulk(std::string* out, std::string_view value);
void AppendNull(std::string* out);  // $-1
void AppendArrayHeader(std::string* out, size_t count);
void AppendNullArray(std::string* out);  // *-1

}  // namespace ephpm::resp

#endif  // EPHPM_RUNTIME_RESP_PROTOCOL_H_
