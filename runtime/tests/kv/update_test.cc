// Store::Update, TypeOf, PExpire, Persist (runtime/kv/update.cc): the primitives the RESP listener
// builds its multi-step commands on.
#include "runtime/kv/store.h"

#include <gtest/gtest.h>

#include <string>

#include "runtime/kv/arena.h"

namespace ephpm::kv {
namespace {

std::unique_ptr<Store> MakeStore(uint64_t limit = 64ull << 20) {
  Options o;
  o.memory_limit = limit;
  std::string error;
  auto store = Store::CreatePrivate(o, &error);
  EXPECT_TRUE(store) << error;
  return store;
}

TEST(StoreUpdate, SeesStateAndWritesDeletesOrKeeps) {
  auto s = MakeStore();
  KeyState seen;
  ASSERT_TRUE(s->Update("k", [&](const KeyState& st, KeyChange*) { seen = st; }));
  EXPECT_FALSE(seen.live);
  EXPECT_FALSE(s->Exists("k"));
  ASSERT_TRUE(s->Set("k", "v", 100));
  ASSERT_TRUE(s->Update("k", [&](const KeyState& st, KeyChange* c) {
    seen = st;
    c->action = KeyChange::Action::kWrite;
    c->value = st.value + "w";
    c->pttl_ms = -1;  // keep
  }));
  EXPECT_TRUE(seen.live);
  EXPECT_EQ(seen.value, "v");
  EXPECT_EQ(seen.type, ValueType::kString);
  EXPECT_GT(seen.pttl_ms, 99000);
  std::string v;
  ASSERT_TRUE(s->Get("k", &v));
  EXPECT_EQ(v, "vw");
  EXPECT_EQ(s->Ttl("k"), 100);
  ASSERT_TRUE(s->Update("k", [&](const KeyState&, KeyChange* c) {
    c->action = KeyChange::Action::kWrite;
    c->value = std::string(5000, 'x');  // no longer fits in place: a new entry
    c->pttl_ms = 0;
  }));
  EXPECT_EQ(s->Ttl("k"), -1);
  ASSERT_TRUE(s->Get("k", &v));
  EXPECT_EQ(v.size(), 5000u);
  ASSERT_TRUE(s->Update("k", [&](const KeyState&, KeyChange* c) {
    c->action = KeyChange::Action::kDelete;
  }));
  EXPECT_FALSE(s->Exists("k"));
}

TEST(StoreUpdate, HashTypeIsAMissForGetAndReplacedBySet) {
  auto s = MakeStore();
  ASSERT_TRUE(s->Update("h", [&](const KeyState&, KeyChange* c) {
    c->action = KeyChange::Action::kWrite;
    c->type = ValueType::kHash;
    c->value = "opaque";
  }));
  ValueType type;
  ASSERT_TRUE(s->TypeOf("h", &type));
  EXPECT_EQ(type, ValueType::kHash);
  std::string v;
  EXPECT_FALSE(s->Get("h", &v));
  char buf[16];
  Store::Peeked peeked;
  EXPECT_EQ(s->Read("h", buf, sizeof buf, &peeked), Store::ReadResult::kMiss);
  EXPECT_TRUE(s->Exists("h"));
  ASSERT_TRUE(s->Set("h", "short", 0));  // same size class: overwritten in place
  ASSERT_TRUE(s->TypeOf("h", &type));
  EXPECT_EQ(type, ValueType::kString);
  ASSERT_TRUE(s->Get("h", &v));
  EXPECT_EQ(v, "short");
  EXPECT_FALSE(s->TypeOf("missing", &type));
}

TEST(StoreUpdate, RefusedWriteChangesNothing) {
  auto s = MakeStore(1 << 20);  // 1 MiB: a 4 MiB value cannot be placed
  ASSERT_TRUE(s->Set("k", "old", 0));
  EXPECT_FALSE(s->Update("k", [&](const KeyState&, KeyChange* c) {
    c->action = KeyChange::Action::kWrite;
    c->value = std::string(4 << 20, 'x');
  }));
  std::string v;
  ASSERT_TRUE(s->Get("k", &v));
  EXPECT_EQ(v, "old");
  EXPECT_FALSE(s->Update(std::string(kMaxKeyLength + 1, 'k'), [](const KeyState&, KeyChange*) {}));
}

TEST(StoreUpdate, PExpireAndPersist) {
  auto s = MakeStore();
  EXPECT_FALSE(s->PExpire("k", 1000));
  EXPECT_FALSE(s->Persist("k"));
  ASSERT_TRUE(s->Set("k", "v", 0));
  EXPECT_FALSE(s->Persist("k"));  // had no expiry
  EXPECT_FALSE(s->PExpire("k", 0));
  EXPECT_TRUE(s->PExpire("k", 1500));
  EXPECT_EQ(s->Ttl("k"), 2);
  EXPECT_TRUE(s->Persist("k"));
  EXPECT_EQ(s->Ttl("k"), -1);
  // A persisted key left the TTL index: the active-expiry cycle never touches it.
  EXPECT_EQ(s->ActiveExpireCycle(), 0u);
  EXPECT_TRUE(s->Exists("k"));
}

}  // namespace
}  // namespace ephpm::kv
