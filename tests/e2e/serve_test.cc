// `cqda serve --stdio` on the example corpus: MCP over newline-delimited JSON-RPC, with the
// data coming from the supervisor into the sandboxed broker, anonymized for the mcp destination.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "common/json.h"
#include "support/test_support.h"

using namespace cqda;
namespace fs = std::filesystem;

namespace {

std::map<int, Json> responses_by_id(const std::string& out) {
  std::map<int, Json> by_id;
  std::size_t start = 0;
  for (std::size_t nl = out.find('\n'); nl != std::string::npos; start = nl + 1, nl = out.find('\n', start)) {
    Json r = Json::parse(out.substr(start, nl - start));
    REQUIRE(r["jsonrpc"] == "2.0");
    by_id[r["id"].is_number() ? r["id"].get<int>() : -1] = r;
  }
  return by_id;
}

}  // namespace

TEST_CASE("cqda serve --stdio answers MCP from the sandboxed broker with anonymized data", "[e2e][serve]") {
  test::TempDir tmp;
  const fs::path examples = test::source_dir() / "examples";
  const std::string init = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
                           R"("capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}})";
  // The first document id is not known in advance; ask for list_documents and read one
  // document in a second session (the vault keeps ids stable).
  auto session = [&](const std::string& lines) {
    test::write_text(tmp / "in.jsonl", lines);
    return test::run_cqda({"serve", "--stdio", "--input", (examples / "corpus").string(), "--output", (tmp / "out").string(),
                           "--cache", (tmp / "cache").string(), "--policy", (examples / "policy.json").string(),
                           "--codebook", (examples / "codebook.json").string(), "--roster",
                           (examples / "roster.csv").string()},
                          (tmp / "in.jsonl").string());
  };
  auto first = session(init + "\n" + R"({"jsonrpc":"2.0","method":"notifications/initialized"})" "\n" +
                       R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})" "\n" +
                       R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_documents","arguments":{}}})" "\n" +
                       R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_codebook","arguments":{}}})" "\n" +
                       R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"read_document","arguments":{"id":"NOT VALID"}}})" "\n" +
                       "this is not json\n");
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  auto r = responses_by_id(first.out);
  CHECK(r[1]["result"]["protocolVersion"] == "2025-06-18");
  CHECK(r[2]["result"]["tools"].size() == 4);
  const Json& documents = r[3]["result"]["structuredContent"]["documents"];
  REQUIRE(documents.size() == 14);
  CHECK(r[4]["result"]["structuredContent"]["codebook"]["categories"].is_array());
  CHECK(r[5]["error"]["code"] == -32602);  // the id breaks the input schema
  CHECK(r[-1]["error"]["code"] == -32700);  // the line that is not JSON
  // stdout holds nothing but MCP: every line parsed above; logs went to stderr.
  CHECK_THAT(first.err, Catch::Contains("serving MCP on stdio"));

  std::string id;
  for (const auto& d : documents)
    if (d["path"].get<std::string>().rfind("interviews/", 0) == 0) id = d["id"];
  REQUIRE_FALSE(id.empty());
  auto second = session(init + "\n" + R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"read_document","arguments":{"id":")" +
                        id + R"(","limit":3}}})" "\n" +
                        R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_document","arguments":{"id":"no-such-document"}}})" "\n" +
                        R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"search_corpus","arguments":{"query":"NIGHT","limit":3,"context":10}}})" "\n" +
                        R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"search_corpus","arguments":{"query":"(unclosed","regex":true}}})" "\n" +
                        R"({"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"search_corpus","arguments":{"query":"Maria Santos"}}})" "\n");
  REQUIRE(second.exit_code == 0);
  auto r2 = responses_by_id(second.out);
  const Json& page = r2[6]["result"]["structuredContent"];
  CHECK(page["segments"].size() == 3);
  CHECK(page["next_offset"] == 3);
  CHECK(r2[7]["result"]["isError"] == true);
  // Keyword search: case-insensitive, bounded, with spans that point at the match.
  const Json& found = r2[8]["result"]["structuredContent"];
  REQUIRE(found["hits"].size() == 3);
  CHECK(found["total"].get<int>() > 3);
  CHECK(found["truncated"] == true);
  for (const auto& hit : found["hits"]) {
    std::string match = hit["match"];
    for (auto& c : match) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(match == "night");
    CHECK(hit["end"].get<int>() - hit["start"].get<int>() == 5);
    CHECK(hit["left"].get<std::string>().size() <= 40);
  }
  CHECK(r2[9]["result"]["isError"] == true);  // a pattern RE2 refuses
  // The raw name is not in the anonymized corpus, so searching for it finds nothing.
  CHECK(r2[10]["result"]["structuredContent"]["total"] == 0);
  // Rostered names never reach the client.
  for (const char* name : {"Maria Santos", "Ngozi Okafor", "James Whitfield"}) CHECK(second.out.find(name) == std::string::npos);
  CHECK(first.out.find("Maria Santos") == std::string::npos);

  // The session's run log records the data the broker asked for, and verifies.
  std::vector<fs::path> logs;
  for (const auto& e : fs::directory_iterator(tmp / "out/run-logs")) logs.push_back(e.path());
  REQUIRE(logs.size() == 2);
  for (const auto& log : logs) {
    CHECK(test::run_cqda({"verify", log.string(), "--allow-unsigned"}).exit_code == 0);
    const std::string text = test::slurp(log);
    CHECK_THAT(text, Catch::Contains("\"type\":\"mcp_data\""));
    CHECK_THAT(text, Catch::Contains("\"process\":\"broker\""));
  }
}
