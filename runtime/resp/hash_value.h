// The bytes of a RESP hash as the store keeps them (an entry of ValueType::kHash): the field/value
// pairs in insertion order, each as [u32 field length][field][u32 value length][value], lengths
// little-endian. The store never looks inside; only the hash commands (commands_hash.cc) do.
#ifndef EPHPM_RUNTIME_RESP_HASH_VALUE_H_
#define EPHPM_RUNTIME_RESP_HASH_VALUE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ephpm::resp {

using HashFields = std::vector<std::pair<std::string, std::string>>;

std::string EncodeHash(const HashFields& fields);
// false when the bytes are not a whole encoding (only a corrupt entry); *fields is then partial.
bool DecodeHash(std::string_view bytes, HashFields* fields);

}  // namespace ephpm::resp

#endif  // EPHPM_RUNTIME_RESP_HASH_VALUE_H_
