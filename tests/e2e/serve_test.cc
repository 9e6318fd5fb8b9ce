// `cqda serve --stdio` on the example corpus: MCP over newline-delimited JSON-RPC, with the
// data coming from the supervisor into the sandboxed broker, anonymized for the mcp destination.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <map>
#include <tuple>
#include <sstream>

#include "common/hash.h"
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
  CHECK(r[2]["result"]["tools"].size() == 15);
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
                        R"({"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"search_corpus","arguments":{"query":"Maria Santos"}}})" "\n" +
                        R"({"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"read_document","arguments":{"id":")" +
                        id + R"(","offset":100000}}})" "\n");
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

  // Past the last segment: an empty page at the offset asked for.
  CHECK(r2[11]["result"]["structuredContent"]["offset"] == 100000);
  CHECK(r2[11]["result"]["structuredContent"]["segments"].empty());
  CHECK_FALSE(r2[11]["result"]["structuredContent"].contains("next_offset"));
  CHECK(r2[11]["result"]["content"][0]["text"] == "no segments at this offset");

  // The session's run log records the data the broker asked for, and verifies.
  std::vector<fs::path> logs;
  for (const auto& e : fs::directory_iterator(tmp / "out/run-logs")) logs.push_back(e.path());
  REQUIRE(logs.size() == 2);
  std::vector<Json> read_calls;  // records of read_document calls (the first session's was refused by the schema)
  for (const auto& log : logs) {
    CHECK(test::run_cqda({"verify", log.string(), "--allow-unsigned"}).exit_code == 0);
    const std::string text = test::slurp(log);
    CHECK_THAT(text, Catch::Contains("\"type\":\"mcp_data\""));
    CHECK_THAT(text, Catch::Contains("\"process\":\"broker\""));
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      Json record = Json::parse(line);
      if (record["type"] == "mcp_tool_call" && record["data"]["tool"] == "read_document") read_calls.push_back(record["data"]);
    }
  }
  // One record per call, whoever wrote it (the supervisor for a page, the broker for a
  // refusal), with the hashes and the size of exactly what the client got.
  REQUIRE(read_calls.size() == 3);
  std::map<std::string, Json> by_result;
  for (const Json& c : read_calls) by_result[c["result_sha256"]] = c;
  // The result as the client read it: the bytes of the response line, not a dump of them.
  auto raw_result = [&](int call_id) {
    const std::string head = R"({"jsonrpc":"2.0","id":)" + std::to_string(call_id) + R"(,"result":)";
    std::istringstream out(second.out);
    for (std::string line; std::getline(out, line);)
      if (line.rfind(head, 0) == 0 && line.back() == '}') return line.substr(head.size(), line.size() - head.size() - 1);
    FAIL("no result for call " << call_id);
    return std::string();
  };
  for (int call_id : {6, 7, 11}) {
    const std::string result = raw_result(call_id);
    CHECK(Json::parse(result) == r2[call_id]["result"]);
    INFO("call " << call_id);
    auto found = by_result.find(sha256_hex(result));
    REQUIRE(found != by_result.end());
    CHECK(found->second["bytes"] == result.size());
    CHECK(found->second["is_error"] == (call_id == 7));
  }
  const std::string page_arguments = R"({"id":")" + id + R"(","limit":3})";
  CHECK(by_result[sha256_hex(raw_result(6))]["arguments_sha256"] == sha256_hex(page_arguments));
}

TEST_CASE("cqda serve: the codebook reaches the client and the exports anonymized", "[e2e][serve]") {
  test::TempDir tmp;
  const fs::path examples = test::source_dir() / "examples";
  // A researcher quoted a participant in an example and named a site in a definition.
  std::string codebook = test::slurp(examples / "codebook.json");
  const std::string quoted = "\"We were short-staffed all the time.\"";
  REQUIRE(codebook.find(quoted) != std::string::npos);
  codebook.replace(codebook.find(quoted), quoted.size(),
                   "\"Maria Santos told me: call 07700 900123, we were short-staffed.\"");
  const std::string definition = "Accounts of the amount and intensity of work";
  REQUIRE(codebook.find(definition) != std::string::npos);
  codebook.replace(codebook.find(definition), definition.size(), "Accounts from Oakfield House of the amount and intensity of work");
  // ... and named a code and a keyword after the site.
  const std::string name = "\"name\": \"Workload and staffing\"";
  REQUIRE(codebook.find(name) != std::string::npos);
  codebook.replace(codebook.find(name), name.size(), "\"name\": \"Workload at Oakfield House\"");
  const std::string keyword = "\"keywords\": [\"short-staffed\",";
  REQUIRE(codebook.find(keyword) != std::string::npos);
  codebook.replace(codebook.find(keyword), keyword.size(), "\"keywords\": [\"short-staffed\", \"Oakfield House\",");
  test::write_text(tmp / "codebook.json", codebook);
  const std::string init = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
                           R"("capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}})";
  test::write_text(tmp / "in.jsonl",
                   init + "\n" + R"({"jsonrpc":"2.0","method":"notifications/initialized"})" "\n" +
                       R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_codebook","arguments":{}}})" "\n" +
                       R"({"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"cqda://codebook"}})" "\n" +
                       R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"export_project","arguments":{}}})" "\n" +
                       R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"code_frequencies","arguments":{}}})" "\n");
  auto r = test::run_cqda({"serve", "--stdio", "--input", (examples / "corpus").string(), "--output", (tmp / "out").string(),
                           "--cache", (tmp / "cache").string(), "--policy", (examples / "policy.json").string(),
                           "--codebook", (tmp / "codebook.json").string(), "--roster", (examples / "roster.csv").string()},
                          (tmp / "in.jsonl").string());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto by_id = responses_by_id(r.out);
  const std::string served = by_id[2]["result"]["structuredContent"]["codebook"].dump();
  CHECK(served.find("short-staffed") != std::string::npos);
  CHECK(by_id[3]["result"]["contents"][0]["text"].get<std::string>().find("short-staffed") != std::string::npos);
  CHECK(by_id[5]["result"]["isError"] == false);
  bool workload = false;
  for (const auto& code : by_id[6]["result"]["structuredContent"]["codes"])
    if (code["code_id"] == "workload") {
      workload = true;
      CHECK(code["name"].get<std::string>().rfind("Workload at Place-", 0) == 0);
    }
  CHECK(workload);
  for (const char* planted : {"Maria Santos", "07700 900123", "Oakfield"}) {
    INFO(planted);
    CHECK(r.out.find(planted) == std::string::npos);
    for (const auto& e : fs::recursive_directory_iterator(tmp / "out"))
      if (e.is_regular_file() && e.path().extension() != ".sqlite" && e.path().filename().string().find("project") == std::string::npos) {
        INFO(e.path());
        CHECK(test::slurp(e.path()).find(planted) == std::string::npos);
      }
  }
  // The pseudonym in the example is the one the exported documents use for Maria Santos.
  const auto at = served.find(" told me:");
  REQUIRE(at != std::string::npos);
  const auto from = served.rfind("Person-", at);
  REQUIRE(from != std::string::npos);
  const std::string pseudonym = served.substr(from, at - from);
  std::string anonymized;
  for (const auto& e : fs::recursive_directory_iterator(tmp / "out/exports"))
    if (e.is_regular_file() && e.path().string().find("/anonymized/") != std::string::npos) anonymized += test::slurp(e.path());
  CHECK(anonymized.find(pseudonym + ":") != std::string::npos);  // her speaker label
}

TEST_CASE("cqda serve --stdio serves resources, prompts and completion, and logs each tool call", "[e2e][serve]") {
  test::TempDir tmp;
  const fs::path examples = test::source_dir() / "examples";
  std::string lines =
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}})" "\n"
      R"({"jsonrpc":"2.0","method":"notifications/initialized"})" "\n"
      R"({"jsonrpc":"2.0","id":2,"method":"resources/list"})" "\n"
      R"({"jsonrpc":"2.0","id":3,"method":"resources/templates/list"})" "\n"
      R"({"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"cqda://codebook"}})" "\n"
      R"({"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"cqda://documents/nope"}})" "\n"
      R"({"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"cqda://reports/latest"}})" "\n"
      R"({"jsonrpc":"2.0","id":7,"method":"prompts/list"})" "\n"
      R"({"jsonrpc":"2.0","id":8,"method":"prompts/get","params":{"name":"thematic_summary","arguments":{"code_id":"workload"}}})" "\n"
      R"({"jsonrpc":"2.0","id":9,"method":"prompts/get","params":{"name":"thematic_summary","arguments":{"code_id":"no-such-code"}}})" "\n"
      R"({"jsonrpc":"2.0","id":10,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"thematic_summary"},"argument":{"name":"code_id","value":"work"}}})" "\n"
      R"({"jsonrpc":"2.0","id":11,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"cqda://documents/{id}"},"argument":{"name":"id","value":"interviews-"}}})" "\n"
      R"({"jsonrpc":"2.0","id":12,"method":"logging/setLevel","params":{"level":"warning"}})" "\n"
      R"({"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"search_corpus","arguments":{"query":"night"}}})" "\n"
      // Hostile arguments are refused without ending the server: RE2's any-byte escape (a
      // match could end inside a character), nesting deeper than the supervisor accepts, an
      // id whose first 200 bytes end inside a character.
      R"({"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"search_corpus","arguments":{"query":"say \\C","regex":true}}})" "\n"
      R"({"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"update_codebook","arguments":{"author":"me","change":{"op":"edit","code_id":"pay","fields":{"examples":[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]}}}}})" "\n"
      R"({"jsonrpc":"2.0","id":16,"method":"resources/read","params":{"uri":"cqda://documents/)" + std::string(199, 'a') + "\xc3\xa9" + R"("}})" "\n"
      R"({"jsonrpc":"2.0","id":17,"method":"ping"})" "\n";
  test::write_text(tmp / "in.jsonl", lines);
  auto run = test::run_cqda({"serve", "--stdio", "--input", (examples / "corpus").string(), "--output", (tmp / "out").string(),
                             "--cache", (tmp / "cache").string(), "--policy", (examples / "policy.json").string(),
                             "--codebook", (examples / "codebook.json").string(), "--roster", (examples / "roster.csv").string()},
                            (tmp / "in.jsonl").string());
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  auto r = responses_by_id(run.out);
  for (const char* cap : {"tools", "resources", "prompts", "completions", "logging"})
    CHECK(r[1]["result"]["capabilities"].contains(cap));
  const Json& resources = r[2]["result"]["resources"];
  CHECK(resources[0]["uri"] == "cqda://codebook");
  // 14 documents and the codebook; no report, as no run has written one to this output.
  CHECK(resources.size() == 15);
  CHECK(r[3]["result"]["resourceTemplates"][0]["uriTemplate"] == "cqda://documents/{id}");
  CHECK(Json::parse(r[4]["result"]["contents"][0]["text"].get<std::string>())["categories"].is_array());
  CHECK(r[5]["error"]["code"] == -32002);
  CHECK(r[6]["error"]["code"] == -32002);
  CHECK(r[7]["result"]["prompts"].size() == 3);
  CHECK_THAT(r[8]["result"]["messages"][0]["content"]["text"].get<std::string>(), Catch::Contains("workload"));
  CHECK(r[9]["error"]["code"] == -32602);
  CHECK(r[10]["result"]["completion"]["values"] == Json::array({"workload", "workload-nights"}));
  for (const auto& id : r[11]["result"]["completion"]["values"]) CHECK(id.get<std::string>().rfind("interviews-", 0) == 0);
  CHECK(r[11]["result"]["completion"]["values"].size() >= 4);
  CHECK(r[12]["result"] == Json::object());
  CHECK(r[13]["result"]["isError"] == false);
  CHECK(r[14]["result"]["isError"] == true);
  CHECK(r[15]["result"]["isError"] == true);
  CHECK(r[16]["error"]["code"] == -32002);
  CHECK(r[17]["result"] == Json::object());  // still serving

  // A document read as a resource is the anonymized text.
  std::string uri = resources[3]["uri"];
  test::write_text(tmp / "in2.jsonl", R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}})" "\n"
                   R"({"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":")" + uri + "\"}}\n");
  auto second = test::run_cqda({"serve", "--stdio", "--input", (examples / "corpus").string(), "--output", (tmp / "out").string(),
                                "--cache", (tmp / "cache").string(), "--policy", (examples / "policy.json").string(),
                                "--codebook", (examples / "codebook.json").string(), "--roster", (examples / "roster.csv").string()},
                               (tmp / "in2.jsonl").string());
  REQUIRE(second.exit_code == 0);
  auto r2 = responses_by_id(second.out);
  const std::string text = r2[2]["result"]["contents"][0]["text"];
  CHECK(text.size() > 200);
  for (const char* name : {"Maria Santos", "Ngozi Okafor", "James Whitfield"}) CHECK(text.find(name) == std::string::npos);

  // The tool call is in the run log: tool, hashes and bytes, never the text. The hash and
  // the size are those of the result the client got.
  std::map<std::string, std::size_t> sent;  // sha256 of each tool result -> its size
  for (const auto& [id, response] : r)
    if (response.contains("result") && response["result"].contains("content")) {
      const std::string result = response["result"].dump(-1, ' ', false, Json::error_handler_t::replace);
      sent[sha256_hex(result)] = result.size();
    }
  bool found = false;
  for (const auto& e : fs::directory_iterator(tmp / "out/run-logs")) {
    std::istringstream log(test::slurp(e.path()));
    for (std::string line; std::getline(log, line);) {
      Json record = Json::parse(line);
      if (record["type"] != "mcp_tool_call") continue;
      CHECK(line.find("night") == std::string::npos);
      if (record["data"]["tool"] != "search_corpus" || record["data"]["is_error"] == true) continue;
      found = true;
      CHECK(record["data"]["arguments_sha256"].get<std::string>().size() == 64);
      CHECK(record["data"]["bytes"].get<int>() > 100);
      auto result = sent.find(record["data"]["result_sha256"].get<std::string>());
      REQUIRE(result != sent.end());
      CHECK(record["data"]["bytes"].get<std::size_t>() == result->second);
    }
  }
  CHECK(found);
}

TEST_CASE("cqda serve keeps codings, memos and codebook versions across restarts, and logs each change", "[e2e][serve]") {
  test::TempDir tmp;
  const fs::path examples = test::source_dir() / "examples";
  auto session = [&](const std::string& name, const std::vector<std::string>& requests) {
    std::string lines =
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}})" "\n";
    for (const auto& r : requests) lines += r + "\n";
    test::write_text(tmp / (name + ".jsonl"), lines);
    auto run = test::run_cqda({"serve", "--stdio", "--input", (examples / "corpus").string(), "--output", (tmp / "out").string(),
                               "--cache", (tmp / "cache").string(), "--policy", (examples / "policy.json").string(),
                               "--codebook", (examples / "codebook.json").string(), "--roster", (examples / "roster.csv").string()},
                              (tmp / (name + ".jsonl")).string());
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    return responses_by_id(run.out);
  };
  auto call = [](int id, const std::string& tool, const Json& arguments) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/call"}, {"params", {{"name", tool}, {"arguments", arguments}}}}.dump();
  };
  // Find a segment to code.
  auto first = session("first", {call(2, "list_documents", Json::object())});
  std::string doc;
  for (const auto& d : first[2]["result"]["structuredContent"]["documents"])
    if (d["path"].get<std::string>().rfind("interviews/", 0) == 0) doc = d["id"];
  REQUIRE_FALSE(doc.empty());
  auto page = session("page", {call(2, "read_document", {{"id", doc}, {"limit", 3}})});
  const Json segment = page[2]["result"]["structuredContent"]["segments"][2];
  const std::string text = segment["text"];
  const std::string quote = text.substr(0, text.find(' ', 12));

  auto second = session("second", {
      call(2, "code_segment", {{"document_id", doc}, {"segment_id", segment["id"]}, {"quote", quote}, {"codes", {"workload"}}, {"coder", "AB"}}),
      call(3, "code_segment", {{"document_id", doc}, {"segment_id", segment["id"]}, {"quote", quote + " not in the text"}, {"codes", {"workload"}}, {"coder", "AB"}}),
      call(4, "code_segment", {{"document_id", doc}, {"segment_id", segment["id"]}, {"quote", quote}, {"codes", {"no-such-code"}}, {"coder", "AB"}}),
      call(5, "code_segment", {{"document_id", doc}, {"segment_id", "elsewhere.s0001"}, {"quote", quote}, {"codes", {"workload"}}, {"coder", "AB"}}),
      call(6, "add_memo", {{"text", "Workload comes up early."}, {"author", "AB"}, {"code_id", "workload"}}),
  });
  // Requests of one session run concurrently, so what depends on the above comes next.
  auto renamed = session("rename", {
      call(7, "update_codebook", {{"author", "AB"}, {"change", {{"op", "rename"}, {"code_id", "workload"}, {"new_id", "staffing"}}}}),
  });
  auto refused = session("refused", {
      call(8, "update_codebook", {{"author", "AB"}, {"change", {{"op", "edit"}, {"code_id", "staffing"}, {"fields", {{"name", ""}}}}}}),
  });
  const Json& coded = second[2]["result"];
  REQUIRE(coded["isError"] == false);
  CHECK(coded["structuredContent"]["codings"][0]["quote"] == quote);
  CHECK(coded["structuredContent"]["codings"][0]["start"] == 0);
  CHECK(second[3]["result"]["isError"] == true);  // not verbatim
  CHECK_THAT(second[3]["result"]["content"][0]["text"].get<std::string>(), Catch::Contains("verbatim"));
  CHECK(second[4]["result"]["isError"] == true);  // unknown code
  CHECK(second[5]["result"]["isError"] == true);  // a segment of another document
  CHECK(second[6]["result"]["isError"] == false);
  CHECK(renamed[7]["result"]["structuredContent"]["version"]["version"] == 2);
  INFO(refused[8].dump());
  CHECK(refused[8]["result"]["isError"] == true);  // an edit that breaks the codebook schema changes nothing

  // A new server on the same output folder sees all of it: the coding followed the rename.
  auto third = session("third", {call(2, "list_codings", {{"code_id", "staffing"}}), call(3, "list_memos", Json::object()),
                                 call(4, "get_codebook", Json::object()), call(5, "code_frequencies", Json::object())});
  CHECK(third[2]["result"]["structuredContent"]["total"] == 1);
  CHECK(third[3]["result"]["structuredContent"]["memos"][0]["text"] == "Workload comes up early.");
  CHECK(third[4]["result"]["structuredContent"]["codebook"]["version"] == 2);
  bool counted = false;
  for (const auto& c : third[5]["result"]["structuredContent"]["codes"])
    if (c["code_id"] == "staffing") counted = c["codings"] == 1;
  CHECK(counted);
  // Requests of one session run concurrently: of two removals of one coding, exactly one wins.
  auto fourth = session("fourth", {call(6, "remove_coding", {{"id", coded["structuredContent"]["codings"][0]["id"]}, {"by", "AB"}}),
                                   call(7, "remove_coding", {{"id", coded["structuredContent"]["codings"][0]["id"]}, {"by", "AB"}})});
  CHECK(fourth[6]["result"]["isError"] != fourth[7]["result"]["isError"]);

  // The state lives in one SQLite file under the output folder; every change is in a run log.
  CHECK(fs::exists(tmp / "out/project/cqda-project.sqlite3"));
  std::size_t changes = 0;
  for (const auto& e : fs::directory_iterator(tmp / "out/run-logs")) {
    const std::string log = test::slurp(e.path());
    for (std::size_t at = log.find("\"type\":\"project_change\""); at != std::string::npos;
         at = log.find("\"type\":\"project_change\"", at + 1))
      ++changes;
    CHECK(test::run_cqda({"verify", e.path().string(), "--allow-unsigned"}).exit_code == 0);
  }
  CHECK(changes >= 5);  // create, coding, memo, rename, removal
}

TEST_CASE("docs/MCP.md is the contract the server serves", "[e2e][serve]") {
  auto described = test::run_cqda({"mcp", "describe"});
  REQUIRE(described.exit_code == 0);
  // Regenerate with: build/cqda mcp describe > docs/MCP.md
  CHECK(described.out == test::slurp(test::source_dir() / "docs/MCP.md"));
  for (const char* tool : {"list_documents", "read_document", "search_corpus", "get_codebook", "update_codebook", "code_segment",
                           "remove_coding", "list_codings", "auto_code", "add_memo", "list_memos", "code_frequencies",
                           "export_project", "verify_run_log"})
    CHECK_THAT(described.out, Catch::Contains(std::string("### ") + tool + "\n"));
}

namespace {

// Starts `cqda ARGS` in the background with stderr to `log`; returns its pid.
pid_t spawn_cqda(const std::vector<std::string>& args, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(CQDA_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(CQDA_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

std::string proc_status_field(pid_t pid, const std::string& field) {
  std::istringstream status(test::slurp(fs::path("/proc") / std::to_string(pid) / "status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field + ":", 0) == 0) {
      std::string value = line.substr(field.size() + 1);
      return value.substr(value.find_first_not_of(" \t"));
    }
  return "";
}

}  // namespace

TEST_CASE("cqda serve over HTTPS runs a sandboxed broker and stops cleanly on SIGTERM", "[e2e][serve]") {
  test::TempDir tmp;
  const fs::path examples = test::source_dir() / "examples";
  REQUIRE(test::run_cqda({"certs", "--out", (tmp / "certs").string()}).exit_code == 0);
  test::write_text(tmp / "token", "0123456789abcdef0123456789abcdef\n");
  std::vector<std::string> common = {"--input", (examples / "corpus").string(), "--output", (tmp / "out").string(),
                                     "--cache", (tmp / "cache").string(), "--policy", (examples / "policy.json").string(),
                                     "--codebook", (examples / "codebook.json").string()};
  auto serve = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"serve"};
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  // Refusals before anything starts: no certificate, plain HTTP off loopback, a short token.
  auto no_cert = test::run_cqda(serve({"--listen", "127.0.0.1:0"}));
  CHECK(no_cert.exit_code == 2);
  CHECK_THAT(no_cert.err, Catch::Contains("cqda certs"));
  auto plain = test::run_cqda(serve({"--listen", "0.0.0.0:0", "--plain-http", "--token-file", (tmp / "token").string()}));
  CHECK(plain.exit_code != 0);
  CHECK_THAT(plain.err, Catch::Contains("loopback"));
  test::write_text(tmp / "short", "abc\n");
  auto short_token = test::run_cqda(serve({"--listen", "127.0.0.1:0", "--plain-http", "--token-file", (tmp / "short").string()}));
  CHECK(short_token.exit_code == 2);

  const pid_t pid = spawn_cqda(serve({"--listen", "127.0.0.1:0", "--tls-cert", (tmp / "certs/server.crt").string(),
                                      "--tls-key", (tmp / "certs/server.key").string(), "--token-file",
                                      (tmp / "token").string()}),
                               tmp / "stderr");
  REQUIRE(pid > 0);
  std::string err;
  for (int i = 0; i < 300 && err.find("serving MCP on https://127.0.0.1:") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    err = test::slurp(tmp / "stderr");
  }
  INFO(err);
  REQUIRE(err.find("serving MCP on https://127.0.0.1:") != std::string::npos);
  CHECK(err.find("0123456789abcdef") == std::string::npos);  // a token from a file is never printed

  // The broker, as the run log names it, runs with seccomp and no_new_privs.
  // The refusals above wrote no run log: this server's is the only one.
  fs::path log;
  std::size_t logs = 0;
  for (const auto& e : fs::directory_iterator(tmp / "out/run-logs")) log = e.path(), ++logs;
  CHECK(logs == 1);
  pid_t broker = 0;
  std::istringstream records(test::slurp(log));
  for (std::string line; std::getline(records, line);) {
    Json record = Json::parse(line);
    if (record["type"] == "sandbox" && record["data"]["process"] == "broker") broker = record["data"]["pid"].get<pid_t>();
  }
  REQUIRE(broker > 0);
  CHECK(proc_status_field(broker, "Seccomp") == "2");
  CHECK(proc_status_field(broker, "NoNewPrivs") == "1");

  REQUIRE(::kill(pid, SIGTERM) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(::kill(broker, 0) == -1);  // the broker is gone too
  CHECK_THAT(test::slurp(log), Catch::Contains("stopped by a signal"));
  CHECK(test::run_cqda({"verify", log.string(), "--allow-unsigned"}).exit_code == 0);
}

TEST_CASE("cqda serve --tls-dir makes a local CA once and keeps it; cqda healthcheck probes the server", "[e2e][serve]") {
  test::TempDir tmp;
  const fs::path examples = test::source_dir() / "examples";
  test::write_text(tmp / "token", "0123456789abcdef0123456789abcdef\n");
  const std::vector<std::string> args = {
      "serve", "--input", (examples / "corpus").string(), "--output", (tmp / "out").string(), "--cache",
      (tmp / "cache").string(), "--policy", (examples / "policy.json").string(), "--codebook",
      (examples / "codebook.json").string(), "--listen", "127.0.0.1:0", "--tls-dir", (tmp / "tls").string(),
      "--token-file", (tmp / "token").string()};
  // Starts the server, waits for its address, and returns the pid, the port and the stderr so far.
  auto start = [&](const std::string& name) {
    const pid_t pid = spawn_cqda(args, tmp / name);
    std::string err;
    for (int i = 0; i < 300 && err.find("serving MCP on https://127.0.0.1:") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      err = test::slurp(tmp / name);
    }
    const auto at = err.find("https://127.0.0.1:");
    REQUIRE(at != std::string::npos);
    const std::string port = err.substr(at + 18, err.find('/', at + 18) - (at + 18));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return std::tuple{pid, port, test::slurp(tmp / name)};
  };
  auto stop = [](pid_t pid) {
    REQUIRE(::kill(pid, SIGTERM) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  };
  REQUIRE(test::run_cqda({"certs", "--out", (tmp / "other").string()}).exit_code == 0);

  auto [pid, port, err] = start("first.err");
  INFO(err);
  CHECK_THAT(err, Catch::Contains("made a local CA and a server certificate"));
  CHECK_THAT(err, Catch::Contains("will not be signed"));
  REQUIRE(fs::exists(tmp / "tls/ca.crt"));
  CHECK((fs::status(tmp / "tls/server.key").permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  const std::string certificate = test::slurp(tmp / "tls/server.crt");
  const std::string address = "127.0.0.1:" + port;
  auto healthy = test::run_cqda({"healthcheck", "--connect", address, "--tls-dir", (tmp / "tls").string()});
  CHECK(healthy.exit_code == 0);
  CHECK_THAT(healthy.out, Catch::Contains("pinned certificate"));
  // Another certificate pinned, or plain HTTP to the TLS port: unhealthy, exit 1.
  auto pinned_other = test::run_cqda({"healthcheck", "--connect", address, "--tls-cert", (tmp / "other/server.crt").string()});
  CHECK(pinned_other.exit_code == 1);
  CHECK_THAT(pinned_other.err, Catch::Contains("other than the pinned"));
  CHECK(test::run_cqda({"healthcheck", "--connect", address, "--plain-http"}).exit_code == 1);
  CHECK(test::run_cqda({"healthcheck", "--connect", "not-an-address"}).exit_code == 2);
  stop(pid);
  CHECK(test::run_cqda({"healthcheck", "--connect", address}).exit_code == 1);  // nobody listens now

  // A second start uses the same certificate: clients keep trusting the CA.
  auto [pid2, port2, err2] = start("second.err");
  CHECK(err2.find("made a local CA") == std::string::npos);
  CHECK(test::slurp(tmp / "tls/server.crt") == certificate);
  CHECK(test::run_cqda({"healthcheck", "--connect", "127.0.0.1:" + port2, "--tls-dir", (tmp / "tls").string()}).exit_code == 0);
  stop(pid2);

  // Half a pair (an interrupted first start) is refused with what to do, not silently replaced.
  fs::remove(tmp / "tls/server.crt");
  auto half = test::run_cqda(args);
  CHECK(half.exit_code == 2);
  CHECK_THAT(half.err, Catch::Contains("server.key without server.crt"));
}
