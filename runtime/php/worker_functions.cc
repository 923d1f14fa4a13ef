// runtime/php/worker_functions.cc: the PHP functions of worker mode and the two SAPI functions
// both modes need, registered in the `ephpm` extension (stub: ephpm_worker.stub.php, arginfo
// generated from it by PHP's gen_stub.php into ephpm_worker_arginfo.h):
//
//   ephpm_handle_request(callable $handler): bool      worker mode's loop primitive
//   Ephpm\Worker\take_request(): ?Ephpm\Worker\Envelope  ePHPm's primitives, for code written
//   Ephpm\Worker\send_response(int, array, string): void for ePHPm's worker mode
//   fastcgi_finish_request(): bool, getallheaders(): array   (classic and worker mode)
//
// Every function here is a frame a bailout can cross (handlers run user code): no C++ object
// with a destructor is live across a Zend call (docs/embedding-php.md section 11). Work that
// needs C++ containers is done in helpers that make no Zend call.
#include <cstring>
#include <string>
#include <vector>

#include "runtime/ascii.h"
#include "runtime/php/kv_module.h"
#include "runtime/php/php_headers.h"
#include "runtime/php/request_context.h"
#include "runtime/php/worker_internal.h"

extern "C" {
#include "zend_smart_str.h"
}

#include "runtime/php/ephpm_worker_arginfo.h"

namespace {

using ephpm::AsciiIEquals;
using ephpm::HeaderJoinSeparator;
using ephpm::php::CurrentContext;
using ephpm::php::RequestContext;
using ephpm::php::RequestInfo;

zend_class_entry* g_envelope_ce = nullptr;
zend_object_handlers g_envelope_handlers;

// An Envelope remembers the request generation it was made for; once that request is answered
// its accessors return empty values, never the next request's data.
struct EnvelopeObject {
  uint64_t generation;
  zend_object std;
};

EnvelopeObject* Envelope(zend_object* obj) {
  return reinterpret_cast<EnvelopeObject*>(reinterpret_cast<char*>(obj) -
                                           XtOffsetOf(EnvelopeObject, std));
}

zend_object* CreateEnvelope(zend_class_entry* ce) {
  auto* env = static_cast<EnvelopeObject*>(zend_object_alloc(sizeof(EnvelopeObject), ce));
  env->generation = 0;
  zend_object_std_init(&env->std, ce);
  object_properties_init(&env->std, ce);
  env->std.handlers = &g_envelope_handlers;
  return &env->std;
}

// The request an Envelope refers to, or nullptr when it is stale.
const RequestInfo* EnvelopeRequest(zval* self) {
  if (!ephpm::php::WorkerInFlight()) return nullptr;
  if (Envelope(Z_OBJ_P(self))->generation != ephpm::php::WorkerGeneration()) return nullptr;
  return ephpm::php::WorkerRequest();
}

bool RequireWorker(const char* function) {
  if (ephpm::php::WorkerActive()) return true;
  zend_throw_error(nullptr,
                   "%s() is only available in worker mode ([php] mode = \"worker\" in ephpm.toml)",
                   function);
  return false;
}

bool HeaderNameIs(const std::string& line, const char* name, size_t len) {
  return line.size() > len && line[len] == ':' &&
         AsciiIEquals(std::string_view(line.data(), len), std::string_view(name, len));
}

// send_response(): the SAPI headers (header(), setcookie()) with the ones passed in `packed`
// ("Name: value\n" lines) replacing same-named ones, and the echoed output followed by `body`.
// No Zend calls.
void AnswerWithResponse(RequestContext* ctx, int status, const char* packed, size_t packed_len,
                        const char* body, size_t body_len) {
  ctx->responded = true;
  if (ctx->streaming) {  // flush() already sent status and headers
    if (body_len > 0) ctx->writer->StreamChunk(std::string_view(body, body_len));
    ctx->writer->EndStream(true);
    return;
  }
  std::vector<std::string> lines = std::move(ctx->header_lines);
  std::vector<std::string> given;
  for (size_t pos = 0; pos < packed_len;) {
    const char* nl = static_cast<const char*>(memchr(packed + pos, '\n', packed_len - pos));
    size_t end = nl == nullptr ? packed_len : static_cast<size_t>(nl - packed);
    given.emplace_back(packed + pos, end - pos);
    pos = end + 1;
  }
  for (const std::string& line : given) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::vector<std::string> kept;
    for (std::string& old : lines) {
      if (!HeaderNameIs(old, line.data(), colon)) kept.push_back(std::move(old));
    }
    lines.swap(kept);
  }
  for (std::string& line : given) lines.push_back(std::move(line));
  std::string out = std::move(ctx->out);
  out.append(body, body_len);
  ctx->writer->Complete(status, std::move(lines), std::move(out));
}

// "Name: value\n" for one header value; false when the value is not convertible to a string
// (the exception is pending).
bool AppendHeaderLine(smart_str* out, zend_string* name, zval* value) {
  zend_string* text = zval_try_get_string(value);
  if (text == nullptr) return false;
  smart_str_append(out, name);
  smart_str_appendl(out, ": ", 2);
  smart_str_append(out, text);
  smart_str_appendc(out, '\n');
  zend_string_release(text);
  return true;
}

// ['Name' => 'value' | ['v1', 'v2']] into "Name: value\n" lines (a list gives one line each).
bool PackHeaders(smart_str* out, HashTable* headers) {
  zend_string* name;
  zval* value;
  ZEND_HASH_FOREACH_STR_KEY_VAL(headers, name, value) {
    if (name == nullptr) continue;
    ZVAL_DEREF(value);
    if (Z_TYPE_P(value) == IS_ARRAY) {
      zval* item;
      ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(value), item) {
        if (!AppendHeaderLine(out, name, item)) return false;
      }
      ZEND_HASH_FOREACH_END();
    } else if (!AppendHeaderLine(out, name, value)) {
      return false;
    }
  }
  ZEND_HASH_FOREACH_END();
  smart_str_0(out);
  return true;
}

// Request headers by name as received; repeated headers joined (", ", cookies "; ").
void HeadersArray(const RequestInfo* info, zval* out) {
  array_init(out);
  if (info == nullptr) return;
  for (const auto& [name, value] : info->headers) {
    zval* existing = zend_hash_str_find(Z_ARRVAL_P(out), name.data(), name.size());
    if (existing == nullptr) {
      add_assoc_stringl_ex(out, name.data(), name.size(), value.data(), value.size());
      continue;
    }
    const char* sep = HeaderJoinSeparator(name);
    zend_string* joined = zend_string_concat3(Z_STRVAL_P(existing), Z_STRLEN_P(existing), sep, 2,
                                              value.data(), value.size());
    zval_ptr_dtor(existing);
    ZVAL_STR(existing, joined);
  }
}

void CopyGlobal(int track, zval* out) {
  zval* arr = &PG(http_globals)[track];
  if (Z_TYPE_P(arr) == IS_ARRAY) {
    ZVAL_COPY(out, arr);
  } else {
    array_init(out);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------------------------

ZEND_FUNCTION(ephpm_handle_request) {
  zend_fcall_info fci;
  zend_fcall_info_cache fcc;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_FUNC(fci, fcc)
  ZEND_PARSE_PARAMETERS_END();
  if (!RequireWorker("ephpm_handle_request")) RETURN_THROWS();
  if (ephpm::php::WorkerInHandler()) {
    zend_throw_error(nullptr, "ephpm_handle_request() cannot be called inside a request handler");
    RETURN_THROWS();
  }
  // A request taken with Ephpm\Worker\take_request() and never answered: answer it now.
  if (ephpm::php::WorkerInFlight()) ephpm::php::WorkerEndRequest();
  if (!ephpm::php::WorkerBeginRequest()) RETURN_FALSE;

  zval retval;
  ZVAL_UNDEF(&retval);
  fci.retval = &retval;
  fci.params = nullptr;
  fci.param_count = 0;
  ephpm::php::WorkerSetInHandler(true);
  zend_call_function(&fci, &fcc);
  ephpm::php::WorkerSetInHandler(false);
  zval_ptr_dtor(&retval);
  if (EG(exception) != nullptr) {
    if (zend_is_unwind_exit(EG(exception)) || zend_is_graceful_exit(EG(exception))) {
      // exit(): the script unwinds; the request is answered when it has ended.
      RETURN_THROWS();
    }
    // Uncaught in the handler: reported as PHP reports an uncaught exception (a fatal error,
    // logged), answered with 500, and the loop ends so the script boots afresh.
    zend_exception_error(EG(exception), E_ERROR);
    ephpm::php::WorkerFailRequest();
    RETURN_FALSE;
  }
  ephpm::php::WorkerEndRequest();
  RETURN_TRUE;
}

ZEND_FUNCTION(Ephpm_Worker_take_request) {
  ZEND_PARSE_PARAMETERS_NONE();
  if (!RequireWorker("Ephpm\\Worker\\take_request")) RETURN_THROWS();
  if (ephpm::php::WorkerInHandler()) {
    zend_throw_error(nullptr,
                     "Ephpm\\Worker\\take_request() cannot be called inside a request handler");
    RETURN_THROWS();
  }
  if (ephpm::php::WorkerInFlight()) ephpm::php::WorkerEndRequest();
  if (!ephpm::php::WorkerBeginRequest()) RETURN_NULL();
  object_init_ex(return_value, g_envelope_ce);
  Envelope(Z_OBJ_P(return_value))->generation = ephpm::php::WorkerGeneration();
}

ZEND_FUNCTION(Ephpm_Worker_send_response) {
  zend_long status;
  HashTable* headers;
  zend_string* body;
  ZEND_PARSE_PARAMETERS_START(3, 3)
    Z_PARAM_LONG(status)
    Z_PARAM_ARRAY_HT(headers)
    Z_PARAM_STR(body)
  ZEND_PARSE_PARAMETERS_END();
  if (!RequireWorker("Ephpm\\Worker\\send_response")) RETURN_THROWS();
  if (status < 100 || status > 999) {
    zend_argument_value_error(1, "must be between 100 and 999");
    RETURN_THROWS();
  }
  RequestContext* ctx = ephpm::php::WorkerContext();
  if (ctx == nullptr || ctx->responded) return;  // no request in flight: nothing to answer
  smart_str packed = {nullptr, 0};
  if (!PackHeaders(&packed, headers)) {
    smart_str_free(&packed);
    RETURN_THROWS();
  }
  php_output_end_all();                        // echoed output into the response body
  if (!SG(headers_sent)) sapi_send_headers();  // header() / setcookie() lines
  AnswerWithResponse(ctx, static_cast<int>(status), packed.s ? ZSTR_VAL(packed.s) : "",
                     packed.s ? ZSTR_LEN(packed.s) : 0, ZSTR_VAL(body), ZSTR_LEN(body));
  smart_str_free(&packed);
  if (!ephpm::php::WorkerInHandler()) ephpm::php::WorkerEndRequest();
}

ZEND_FUNCTION(fastcgi_finish_request) {
  ZEND_PARSE_PARAMETERS_NONE();
  RequestContext* ctx = CurrentContext();
  if (ctx == nullptr || ctx->discard || ctx->responded) RETURN_FALSE;
  ephpm::php::FinishRequestEarly(ctx);
  RETURN_TRUE;
}

ZEND_FUNCTION(getallheaders) {
  ZEND_PARSE_PARAMETERS_NONE();
  RequestContext* ctx = CurrentContext();
  HeadersArray(ctx == nullptr || ctx->discard ? nullptr : ctx->info, return_value);
}

// ---------------------------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------------------------

ZEND_METHOD(Ephpm_Worker_Envelope, serverVars) {
  ZEND_PARSE_PARAMETERS_NONE();
  if (EnvelopeRequest(ZEND_THIS) == nullptr) RETURN_EMPTY_ARRAY();
  CopyGlobal(TRACK_VARS_SERVER, return_value);
}

ZEND_METHOD(Ephpm_Worker_Envelope, headers) {
  ZEND_PARSE_PARAMETERS_NONE();
  HeadersArray(EnvelopeRequest(ZEND_THIS), return_value);
}

ZEND_METHOD(Ephpm_Worker_Envelope, cookies) {
  ZEND_PARSE_PARAMETERS_NONE();
  if (EnvelopeRequest(ZEND_THIS) == nullptr) RETURN_EMPTY_ARRAY();
  CopyGlobal(TRACK_VARS_COOKIE, return_value);
}

ZEND_METHOD(Ephpm_Worker_Envelope, query) {
  ZEND_PARSE_PARAMETERS_NONE();
  if (EnvelopeRequest(ZEND_THIS) == nullptr) RETURN_EMPTY_ARRAY();
  CopyGlobal(TRACK_VARS_GET, return_value);
}

ZEND_METHOD(Ephpm_Worker_Envelope, parsedBody) {
  ZEND_PARSE_PARAMETERS_NONE();
  RETURN_NULL();  // as in ePHPm: form parsing is the adapter's (or $_POST's) job
}

ZEND_METHOD(Ephpm_Worker_Envelope, files) {
  ZEND_PARSE_PARAMETERS_NONE();
  RETURN_EMPTY_ARRAY();  // as in ePHPm: uploads are in $_FILES
}

ZEND_METHOD(Ephpm_Worker_Envelope, rawBody) {
  ZEND_PARSE_PARAMETERS_NONE();
  const RequestInfo* info = EnvelopeRequest(ZEND_THIS);
  if (info == nullptr || info->body.size() == 0) RETURN_EMPTY_STRING();
  // The body may be in a temp file (body_buffer_size): read it into the string.
  size_t size = static_cast<size_t>(info->body.size());
  zend_string* s = zend_string_alloc(size, 0);
  size_t got = 0;
  while (got < size) {
    size_t n = info->body.Read(got, ZSTR_VAL(s) + got, size - got);
    if (n == 0) break;
    got += n;
  }
  ZSTR_VAL(s)[got] = '\0';
  ZSTR_LEN(s) = got;
  RETURN_NEW_STR(s);
}

ZEND_METHOD(Ephpm_Worker_Envelope, bodyStream) {
  ZEND_PARSE_PARAMETERS_NONE();
  const RequestInfo* info = EnvelopeRequest(ZEND_THIS);
  php_stream* stream = php_stream_temp_create(TEMP_STREAM_DEFAULT, 2 * 1024 * 1024);
  if (stream == nullptr) RETURN_FALSE;
  if (info != nullptr && info->body.size() > 0) {
    char buffer[64 * 1024];
    uint64_t offset = 0;
    while (size_t n = info->body.Read(offset, buffer, sizeof buffer)) {
      php_stream_write(stream, buffer, n);
      offset += n;
    }
    php_stream_seek(stream, 0, SEEK_SET);
  }
  php_stream_to_zval(stream, return_value);
}

namespace ephpm::php {

void RegisterWorkerApi(int type) {
  zend_register_functions(nullptr, ext_functions, nullptr, type);
  g_envelope_ce = register_class_Ephpm_Worker_Envelope();
  g_envelope_ce->create_object = CreateEnvelope;
  memcpy(&g_envelope_handlers, zend_get_std_object_handlers(), sizeof(zend_object_handlers));
  g_envelope_handlers.offset = XtOffsetOf(EnvelopeObject, std);
  g_envelope_handlers.clone_obj = nullptr;
}

}  // namespace ephpm::php
