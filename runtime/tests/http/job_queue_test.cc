// The bounded queue between the I/O threads and the PHP thread.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "runtime/http/job_queue.h"

namespace ephpm::http {
namespace {

std::unique_ptr<PhpJob> Job(const std::string& uri) {
  auto job = std::make_unique<PhpJob>();
  job->info.request_uri = uri;
  return job;
}

TEST(JobQueue, BoundedFifo) {
  JobQueue q(2);
  EXPECT_TRUE(q.TryPush(Job("/a")));
  EXPECT_TRUE(q.TryPush(Job("/b")));
  EXPECT_FALSE(q.TryPush(Job("/c"))) << "full: the caller answers 503";
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.Pop()->info.request_uri, "/a");
  EXPECT_TRUE(q.TryPush(Job("/c")));
  EXPECT_EQ(q.Pop()->info.request_uri, "/b");
  EXPECT_EQ(q.Pop()->info.request_uri, "/c");
}

TEST(JobQueue, CloseDrainsThenReturnsNull) {
  JobQueue q(4);
  EXPECT_TRUE(q.TryPush(Job("/a")));
  q.Close();
  EXPECT_FALSE(q.TryPush(Job("/b"))) << "closed";
  EXPECT_EQ(q.Pop()->info.request_uri, "/a") << "queued work is still handed out";
  EXPECT_EQ(q.Pop(), nullptr);
}

TEST(JobQueue, CloseWakesABlockedConsumer) {
  JobQueue q(4);
  std::thread consumer([&] { EXPECT_EQ(q.Pop(), nullptr); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  q.Close();
  consumer.join();
}

TEST(JobQueue, ManyProducersOneConsumer) {
  JobQueue q(64);
  constexpr int kProducers = 4, kEach = 2000;
  std::atomic<int> accepted{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        while (!q.TryPush(Job("/x"))) std::this_thread::yield();
        ++accepted;
      }
    });
  }
  int popped = 0;
  while (popped < kProducers * kEach) {
    ASSERT_NE(q.Pop(), nullptr);
    ++popped;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(accepted.load(), kProducers * kEach);
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
}  // namespace ephpm::http
