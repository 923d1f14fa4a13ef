#include "runtime/resp/hash_value.h"

#include <cstdint>

namespace ephpm::resp {
namespace {

void PutLength(std::string* out, size_t n) {
  uint32_t v = static_cast<uint32_t>(n);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool TakePiece(std::string_view* in, std::string* piece) {
  if (in->size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= uint32_t{static_cast<unsigned char>((*in)[i])} << (8 * i);
  in->remove_prefix(4);
  if (in->size() < n) return false;
  piece->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeHash(const HashFields& fields) {
  size_t total = 0;
  for (const auto& [f, v] : fields) total += 8 + f.size() + v.size();
  std::string out;
  out.reserve(total);
  for (const auto& [f, v] : fields) {
    PutLength(&out, f.size());
    out.append(f);
    PutLength(&out, v.size());
    out.append(v);
  }
  return out;
}

bool DecodeHash(std::string_view bytes, HashFields* fields) {
  fields->clear();
  while (!bytes.empty()) {
    std::pair<std::string, std::string> fv;
    if (!TakePiece(&bytes, &fv.first) || !TakePiece(&bytes, &fv.second)) return false;
    fields->push_back(std::move(fv));
  }
  return true;
}

}  // namespace ephpm::resp
