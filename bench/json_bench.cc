// The JSON steps of one MCP `read_document` call, each timed alone on a page like the one
// bench/mcp_http.sh asks for (20 segments): validating the tool's result against its output
// schema (as the tool registry does, and on an unordered copy, what valijson reads), parsing
// the supervisor's reply with nlohmann and with read_json_text, and writing it with
// nlohmann's dump and with json_text. Prints microseconds per operation.
//
//   ninja -C build-bench json_bench && build-bench/bench/json_bench [ITERATIONS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/json.h"
#include "common/json_text.h"

using namespace cqda;

namespace {

Json page() {
  Json segments = Json::array();
  for (int i = 0; i < 20; ++i) {
    std::string text = "So the first thing is the rota, and Person-k3f9 says the night shift is short again; ";
    text += "we had three people off in Kraków week. It is not the pay – it's the hours.";
    segments.push_back({{"id", "interviews-p01-person-59vv-txt.s" + std::to_string(1000 + i)},
                        {"text", text + text + text},
                        {"start", i * 500},
                        {"length", 480},
                        {"speaker", "Interviewer"}});
  }
  return {{"document", {{"id", "interviews-p01-person-59vv-txt"}, {"path", "interviews/p01-person-59vv.txt"},
                        {"format", "txt"}, {"segments", 40}, {"characters", 12000}}},
          {"offset", 0},
          {"segments", std::move(segments)},
          {"next_offset", 20}};
}

const Json& output_schema() {
  static const Json schema = Json::parse(R"({"type":"object","required":["document","offset","segments"],
    "properties":{"document":{"type":"object","required":["id","path","format","segments","characters"],
      "properties":{"id":{"type":"string"},"path":{"type":"string"},"format":{"type":"string"},
        "segments":{"type":"integer","minimum":0},"characters":{"type":"integer","minimum":0}}},
      "offset":{"type":"integer"},"next_offset":{"type":"integer"},
      "segments":{"type":"array","items":{"type":"object","required":["id","text","start","length"],
        "properties":{"id":{"type":"string"},"speaker":{"type":"string"},"text":{"type":"string"},
          "start":{"type":"integer"},"length":{"type":"integer"}}}}}})");
  return schema;
}

template <typename F>
void time(const char* what, int iterations, F&& step) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i)
    if (!step()) {
      std::fprintf(stderr, "json_bench: %s failed\n", what);
      std::exit(1);
    }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-44s %8.1f us\n", what, us / iterations);
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 5000;
  const Json result = page();
  const std::string text = json_text(result);
  const nlohmann::json plain = nlohmann::json::parse(text);
  const SchemaValidator validator(output_schema());
  std::printf("page: %zu bytes of JSON, %d iterations\n", text.size(), iterations);
  time("validate the result (as the registry does)", iterations, [&] { return validator.validate(result).empty(); });
  time("validate an unordered copy (no conversion)", iterations, [&] { return validator.validate(plain).empty(); });
  time("parse with nlohmann", iterations, [&] { return Json::parse(text).size() == 4; });
  time("read with read_json_text", iterations, [&] { auto j = read_json_text(text, 64); return j && j->size() == 4; });
  time("dump with nlohmann (replace)", iterations,
       [&] { return result.dump(-1, ' ', false, Json::error_handler_t::replace).size() == text.size(); });
  time("write with json_text", iterations, [&] { return json_text(result).size() == text.size(); });
  return 0;
}
