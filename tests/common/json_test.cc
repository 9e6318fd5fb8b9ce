// Schema validation shared across threads, as the MCP server's tools use it.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "common/json.h"

using namespace cqda;

TEST_CASE("a schema validator is shared safely by threads", "[json]") {
  const SchemaValidator validator(Json::parse(R"({"type":"object","properties":{
    "a":{"type":"string","pattern":"^[a-z]+$"},"b":{"type":"string","pattern":"^[0-9]+$"},
    "c":{"type":"array","items":{"type":"string","pattern":"^x"}}}})"));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const bool good = (i + t) % 2 == 0;
        Json instance = {{"a", good ? "abc" : "ABC"}, {"b", "123"}, {"c", {"x1", "x2"}}};
        if (validator.validate(instance).empty() != good) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
}
