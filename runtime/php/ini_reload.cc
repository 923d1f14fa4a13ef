// INI settings of a reloaded config in a worker forked from a master whose module start-up had
// the old ones (request_sapi.h: IniLines, ApplyIniChanges).
//
// Module start-up runs once, in the master, and every worker inherits its INI values; running
// it again in the master would need every extension to survive a second start-up in one
// process. Instead a worker sets what changed itself, before its first request, the way
// php-fpm gives each pool's children their php_admin_value: the directive's on_modify handler
// with the new value, and the value made the entry's own (not a per-request change that
// request shutdown would undo). docs/embedding-php.md section 6.
#include <cstdio>
#include <map>
#include <string>

#include "runtime/php/php_headers.h"
#include "runtime/php/request_context.h"
#include "runtime/php/request_sapi.h"

namespace ephpm::php {
namespace {

// name -> value; the last line of a name wins, as in PHP's INI parser.
std::map<std::string, std::string> ByName(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> out;
  for (const std::string& line : lines) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

void Log(int level, const std::string& message) {
  const RequestSapiOptions& o = SapiOptions();
  if (o.log != nullptr) o.log(level, message);
  else fprintf(stderr, "%s\n", message.c_str());
}

// Returns false when PHP's handler refused the value.
bool SetAsStartupValue(zend_ini_entry* entry, const std::string& value) {
  zend_string* fresh = zend_string_init(value.data(), value.size(), 1);
  if (entry->on_modify != nullptr &&
      entry->on_modify(entry, fresh, entry->mh_arg1, entry->mh_arg2, entry->mh_arg3,
                       ZEND_INI_STAGE_ACTIVATE) != SUCCESS) {
    zend_string_release_ex(fresh, 1);
    return false;
  }
  // The old value may be an interned string of module start-up; it is left alone (one small
  // string per changed directive per worker).
  entry->value = fresh;
  return true;
}

}  // namespace

std::vector<std::string> IniLines(const RequestSapiOptions& options) {
  std::vector<std::string> lines;
  lines.push_back("memory_limit=" + options.memory_limit);
  lines.push_back("post_max_size=" + std::to_string(options.post_max_size));
  for (const auto& line : options.ini_overrides) lines.push_back(line);
  return lines;
}

void ApplyIniChanges(const RequestSapiOptions& options) {
  std::map<std::string, std::string> started = ByName(IniLines(SapiOptions()));
  for (const auto& [name, value] : ByName(IniLines(options))) {
    auto it = started.find(name);
    if (it != started.end() && it->second == value) continue;
    auto* entry = static_cast<zend_ini_entry*>(
        zend_hash_str_find_ptr(EG(ini_directives), name.data(), name.size()));
    if (entry == nullptr) continue;
    if (!SetAsStartupValue(entry, value)) {
      Log(2, "[php.ini] " + name + ": PHP refuses to change it after start-up; it keeps its "
                                   "value until the server is restarted");
    }
  }
}

}  // namespace ephpm::php
