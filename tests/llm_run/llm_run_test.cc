// `cqda run` with a model backend, against the llm_stub program (tests/stubs/llm_stub.cc) on
// loopback: an OpenAI-compatible endpoint over TLS with a test CA, and an Ollama-shaped one
// over plain HTTP. The stub records every request it receives, which is how these tests see
// what left the supervisor: no planted personal data, no request where the policy refuses
// one, and none at all on a cached rerun or a dry run.
#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "common/json.h"
#include "support/test_support.h"

extern char** environ;

using namespace cqda;
namespace fs = std::filesystem;

namespace {

const std::string kApiKey = "sk-test-3f9a7c1e5d";

struct Certs {
  fs::path ca, chain, key;
};

// One set of test certificates (localhost, 127.0.0.1, ::1) for the whole program.
const Certs& certs() {
  static test::TempDir dir;
  static Certs c = [] {
    auto r = test::run_cqda({"certs", "--out", (dir / "certs").string()});
    REQUIRE(r.exit_code == 0);
    return Certs{dir / "certs" / "ca.crt", dir / "certs" / "server.crt", dir / "certs" / "server.key"};
  }();
  return c;
}

class Stub {
 public:
  struct Options {
    bool tls = true;
    std::string host = "127.0.0.1";
    std::string script;  // JSON array, or "" for the default answers
    int delay_ms = 0;
  };

  explicit Stub(const Options& o) : options_(o) {
    const fs::path port_file = dir_ / "port";
    std::vector<std::string> args{CQDA_LLM_STUB, "--listen", o.host + ":0", "--port-file", port_file.string(), "--record",
                                  record_path().string()};
    if (o.tls) {
      args.insert(args.end(), {"--tls-cert", certs().chain.string(), "--tls-key", certs().key.string()});
    }
    if (!o.script.empty()) {
      test::write_text(dir_ / "script.json", o.script);
      args.insert(args.end(), {"--script", (dir_ / "script.json").string()});
    }
    if (o.delay_ms) args.insert(args.end(), {"--delay-ms", std::to_string(o.delay_ms)});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    for (int i = 0; i < 500 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(fs::exists(port_file));
    port_ = std::stoi(test::slurp(port_file));
  }
  ~Stub() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  int port() const { return port_; }
  std::string base_url(const std::string& path = "/v1") const {
    return std::string(options_.tls ? "https" : "http") + "://" + options_.host + ":" + std::to_string(port_) + path;
  }
  fs::path record_path() const { return dir_ / "requests.jsonl"; }
  std::vector<Json> requests() const {
    std::vector<Json> out;
    std::ifstream in(record_path());
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(Json::parse(line));
    return out;
  }

 private:
  Options options_;
  test::TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// The example policy with one endpoint allowed and a budget.
std::string policy_for(const std::string& scheme, const std::string& host, int port, std::uint64_t budget,
                       const std::function<void(Json&)>& edit = {}) {
  Json p = Json::parse(test::slurp(test::source_dir() / "examples/policy.json"), nullptr, true, true);
  p["egress"]["endpoints"] = Json::array(
      {{{"name", "stub"}, {"scheme", scheme}, {"host", host}, {"port", port}, {"allow_private", true}}});
  p["egress"]["token_budget"] = budget;
  if (edit) edit(p);
  return p.dump(2);
}

struct Project {
  test::TempDir dir;
  fs::path output() const { return dir / "out"; }
  fs::path cache() const { return dir / "cache"; }
  fs::path policy() const { return dir / "policy.json"; }
};

test::CommandResult run_llm(const Project& p, const std::string& backend, const std::string& base_url,
                            std::vector<std::string> extra = {}, const fs::path& output = {},
                            const fs::path& ca_file = certs().ca,
                            const fs::path& codebook = test::source_dir() / "examples/codebook.json") {
  ::setenv("OPENAI_API_KEY", kApiKey.c_str(), 1);
  std::vector<std::string> args{"run",
                                "--input", (test::source_dir() / "examples/corpus").string(),
                                "--output", (output.empty() ? p.output() : output).string(),
                                "--cache", p.cache().string(),
                                "--policy", p.policy().string(),
                                "--codebook", codebook.string(),
                                "--roster", (test::source_dir() / "examples/roster.csv").string(),
                                "--no-progress",
                                "--llm-backend", backend,
                                "--llm-base-url", base_url,
                                "--llm-model", "stub-model",
                                "--llm-ca-file", ca_file.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = test::run_cqda(args);
  ::unsetenv("OPENAI_API_KEY");
  return r;
}

Json codings_json(const fs::path& output) { return Json::parse(test::slurp(output / "codings.json")); }

// The run log's records of one type.
std::vector<Json> log_records(const fs::path& output, const std::string& type) {
  std::vector<Json> out;
  for (const auto& entry : fs::directory_iterator(output / "run-logs")) {
    if (entry.path().extension() != ".jsonl") continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      auto j = Json::parse(line);
      if (j["type"] == type) out.push_back(j["data"]);
    }
  }
  return out;
}

// Every file under `root` as one string, to look for things that must not be there.
std::string everything_under(const fs::path& root) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) all += test::slurp(e.path());
  return all;
}

// One `cqda serve --stdio` session on the example corpus (with the stub's endpoint as its
// model when there is a stub): initialize, then `calls` (JSON-RPC lines); the responses by id.
std::map<int, Json> serve_session(const Project& p, const Stub* stub, const std::string& calls) {
  const fs::path examples = test::source_dir() / "examples";
  const std::string init = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
                           R"("capabilities":{},"clientInfo":{"name":"t","version":"1"}}})" "\n"
                           R"({"jsonrpc":"2.0","method":"notifications/initialized"})" "\n";
  test::write_text(p.dir / "in.jsonl", init + calls);
  std::vector<std::string> args{"serve", "--stdio", "--input", (examples / "corpus").string(), "--output",
                                p.output().string(), "--cache", p.cache().string(), "--policy", p.policy().string(),
                                "--codebook", (examples / "codebook.json").string(), "--roster",
                                (examples / "roster.csv").string()};
  if (stub)
    args.insert(args.end(), {"--llm-backend", "openai", "--llm-base-url", stub->base_url(), "--llm-model", "stub-model",
                             "--llm-ca-file", certs().ca.string()});
  ::setenv("OPENAI_API_KEY", kApiKey.c_str(), 1);
  auto r = test::run_cqda(args, (p.dir / "in.jsonl").string());
  ::unsetenv("OPENAI_API_KEY");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::map<int, Json> by_id;
  std::size_t start = 0;
  for (std::size_t nl = r.out.find('\n'); nl != std::string::npos; start = nl + 1, nl = r.out.find('\n', start)) {
    Json j = Json::parse(r.out.substr(start, nl - start));
    if (j.contains("id")) by_id[j["id"].get<int>()] = j;
  }
  return by_id;
}

}  // namespace

TEST_CASE("openai backend over TLS: every segment coded, verified, no personal data sent, the key never written",
          "[llm_run]") {
  Stub stub({});
  Project p;
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
  auto r = run_llm(p, "openai", stub.base_url());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);

  auto requests = stub.requests();
  REQUIRE(requests.size() > 3);
  std::string sent_text;  // every message the model got
  std::size_t segments_sent = 0;
  for (const auto& request : requests) {
    CHECK(request["method"] == "POST");
    CHECK(request["target"] == "/v1/chat/completions");
    CHECK(request["headers"]["authorization"] == "Bearer " + kApiKey);
    auto parsed = Json::parse(request["body"].get<std::string>());
    CHECK(parsed["response_format"]["type"] == "json_schema");
    CHECK(parsed["temperature"] == 0);
    const std::string user = parsed["messages"][1]["content"].get<std::string>();
    sent_text += request["body"].get<std::string>() + "\n" + user + "\n";
    segments_sent += Json::parse(user)["segments"].size();
  }
  // The planted personal data: contact details, ID numbers, postcodes, people and places on
  // the roster or not never reach the model. A birth year alone ("born 1979") is what the
  // policy generalizes a date of birth to, so it may; but the model never sees one that the
  // anonymized export does not show too — it gets the same anonymized text, nothing more.
  const std::string exported = everything_under(p.output() / "anonymized");
  auto generalized = [](const std::string& type, const std::string& value) {
    return type == "date_of_birth" && value.size() == 4;
  };
  std::size_t checked = 0;
  for (const auto& e : Json::parse(test::slurp(test::source_dir() / "examples/expected-pii.json"))) {
    const std::string value = e["value"].get<std::string>(), type = e["type"].get<std::string>();
    const bool sent = sent_text.find(value) != std::string::npos;
    INFO("planted " << type << " sent to the model: " << value);
    if (!generalized(type, value)) {
      ++checked;
      CHECK_FALSE(sent);
    } else if (sent) {
      CHECK(exported.find(value) != std::string::npos);
    }
  }
  CHECK(checked > 150);
  // Nor do file names: segment ids are derived from them, so the model gets batch ids only.
  std::set<std::string> document_ids;
  const Json all_codings = codings_json(p.output());
  for (const auto& c : all_codings["codings"]) document_ids.insert(c["document_id"].get<std::string>());
  REQUIRE(document_ids.size() > 5);
  for (const auto& id : document_ids) {
    INFO("document id sent to the model: " << id);
    CHECK(sent_text.find(id) == std::string::npos);
  }
  CHECK(sent_text.find("maria") == std::string::npos);
  CHECK(sent_text.find("whitfield") == std::string::npos);

  // The stub codes every segment once with a verbatim quote: all are kept, none rejected.
  auto codings = codings_json(p.output());
  CHECK(codings["codings"].size() == segments_sent);
  for (const auto& c : codings["codings"]) {
    CHECK(c["coder"] == "llm:stub-model");
    CHECK(c["prompt_hash"].get<std::string>().size() == 64);
    CHECK(c["cache_key"].get<std::string>().size() == 64);
  }
  auto summary = log_records(p.output(), "llm_coding");
  REQUIRE(summary.size() == 1);
  CHECK(summary[0]["rejected_quotes"] == 0);
  CHECK(log_records(p.output(), "llm_request").size() == requests.size());
  CHECK(summary[0]["requests"] == requests.size());
  CHECK(summary[0]["cache_hits"] == 0);
  for (const auto& rec : log_records(p.output(), "llm_request")) {
    CHECK(rec["cache"] == "miss");
    CHECK(rec["endpoint"] == stub.base_url() + "/chat/completions");
    CHECK(rec["model"] == "stub-model");
    CHECK(rec["tokens_in"].get<std::uint64_t>() > 0);
    CHECK(rec["characters_sent"].get<std::uint64_t>() > 0);
  }
  const std::string report = test::slurp(p.output() / "report.md");
  CHECK(report.find("## Coding") != std::string::npos);
  CHECK(report.find("llm:stub-model") != std::string::npos);
  CHECK(everything_under(p.output()).find(kApiKey) == std::string::npos);
  CHECK(everything_under(p.cache()).find(kApiKey) == std::string::npos);
  for (const auto& e : fs::directory_iterator(p.output() / "run-logs")) {
    if (e.path().extension() != ".jsonl") continue;
    auto verified = test::run_cqda({"verify", "--allow-unsigned", e.path().string()});
    INFO(verified.out << verified.err);
    CHECK(verified.exit_code == 0);
  }

  SECTION("a rerun on unchanged input makes no request and gives the same codings") {
    const std::size_t before = stub.requests().size();
    auto again = run_llm(p, "openai", stub.base_url(), {}, p.dir / "out2");
    INFO(again.out << again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(stub.requests().size() == before);
    CHECK(codings_json(p.dir / "out2")["codings"] == codings["codings"]);
    auto lookups = log_records(p.dir / "out2", "llm_request");
    CHECK(lookups.size() == before);
    for (const auto& rec : lookups) CHECK(rec["cache"] == "hit");
  }
}

TEST_CASE("Azure-style endpoints: the key as api-key, the api-version query, no bearer token", "[llm_run]") {
  Stub stub({});
  Project p;
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
  // An Azure deployment URL; the header is chosen by flag here (the host is not *.azure.com).
  auto r = run_llm(p, "openai", stub.base_url("/openai/deployments/coder"),
                   {"--llm-api-version", "2024-10-21", "--llm-api-key-header", "api-key"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto requests = stub.requests();
  REQUIRE_FALSE(requests.empty());
  for (const auto& request : requests) {
    CHECK(request["target"] == "/openai/deployments/coder/chat/completions?api-version=2024-10-21");
    CHECK(request["headers"]["api-key"] == kApiKey);
    CHECK_FALSE(request["headers"].contains("authorization"));
  }
  CHECK(codings_json(p.output())["codings"].size() > 10);
  // The key is never written; the endpoint with its api-version is logged.
  for (const auto& rec : log_records(p.output(), "llm_request"))
    CHECK(rec["endpoint"] == stub.base_url("/openai/deployments/coder") + "/chat/completions?api-version=2024-10-21");
  CHECK(everything_under(p.output()).find(kApiKey) == std::string::npos);
  CHECK(everything_under(p.cache()).find(kApiKey) == std::string::npos);

  // An api-version that could smuggle more into the URL is refused before anything is sent.
  auto bad = run_llm(p, "openai", stub.base_url("/openai/deployments/coder"), {"--llm-api-version", "1&key=x"},
                     p.dir / "out-bad");
  CHECK(bad.exit_code != 0);
  CHECK_THAT(bad.err, Catch::Contains("API version"));
  CHECK(stub.requests().size() == requests.size());
}

TEST_CASE("the codebook's text reaches the model anonymized, with the corpus's pseudonyms", "[llm_run]") {
  Stub stub({});
  Project p;
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
  // A researcher quoted a participant in an example and a definition.
  std::string text = test::slurp(test::source_dir() / "examples/codebook.json");
  const std::string quoted = "\"We were short-staffed all the time.\"";
  REQUIRE(text.find(quoted) != std::string::npos);
  text.replace(text.find(quoted), quoted.size(),
               "\"Maria Santos told me: call 07700 900123 or maria.santos@example.org, we were short-staffed.\"");
  const std::string definition = "Accounts of the amount and intensity of work";
  REQUIRE(text.find(definition) != std::string::npos);
  text.replace(text.find(definition), definition.size(), "Accounts from Oakfield House and Kerala of the amount and intensity of work");
  const fs::path codebook = p.dir / "codebook.json";
  test::write_text(codebook, text);

  auto r = run_llm(p, "openai", stub.base_url(), {}, {}, certs().ca, codebook);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto requests = stub.requests();
  REQUIRE_FALSE(requests.empty());
  const std::string exported = everything_under(p.output() / "anonymized");
  for (const auto& request : requests) {
    const std::string system = Json::parse(request["body"].get<std::string>())["messages"][0]["content"];
    for (const char* planted : {"Maria Santos", "Maria", "07700 900123", "maria.santos@example.org", "Oakfield", "Kerala"}) {
      INFO(planted);
      CHECK(system.find(planted) == std::string::npos);
    }
    CHECK(system.find("short-staffed.") != std::string::npos);  // the rest of the example is there
    // Maria Santos gets the pseudonym the segments use.
    const auto at = system.find(" told me:");
    REQUIRE(at != std::string::npos);
    const auto from = system.rfind("Person-", at);
    REQUIRE(from != std::string::npos);
    const std::string pseudonym = system.substr(from, at - from);
    CHECK(pseudonym.rfind("Person-", 0) == 0);
    CHECK(exported.find(pseudonym) != std::string::npos);
  }
  // The exports carry the codebook anonymized the same way (codebook.json, report.md).
  for (const char* file : {"codebook.json", "report.md"}) {
    const std::string exported_file = test::slurp(p.output() / file);
    INFO(file);
    if (std::string(file) == "codebook.json") CHECK(exported_file.find("short-staffed.") != std::string::npos);
    for (const char* planted : {"Maria Santos", "07700 900123", "maria.santos@example.org", "Oakfield", "Kerala"})
      CHECK(exported_file.find(planted) == std::string::npos);
  }
  auto records = log_records(p.output(), "llm_codebook_anonymized");
  REQUIRE(records.size() == 1);
  INFO(Json::parse(stub.requests()[0]["body"].get<std::string>())["messages"][0]["content"].get<std::string>());
  CHECK(records[0]["counts"]["person"] == 1);
  CHECK(records[0]["counts"]["place"] == 2);
  CHECK(records[0]["counts"]["email"] == 1);
  CHECK(records[0]["counts"]["phone"] == 1);
}

TEST_CASE("ollama backend over plain HTTP on loopback", "[llm_run]") {
  Stub stub({.tls = false});
  Project p;
  test::write_text(p.policy(), policy_for("http", "127.0.0.1", stub.port(), 10'000'000));
  auto r = run_llm(p, "ollama", stub.base_url(""));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto requests = stub.requests();
  REQUIRE_FALSE(requests.empty());
  for (const auto& request : requests) {
    CHECK(request["target"] == "/api/chat");
    CHECK_FALSE(request["headers"].contains("authorization"));  // the key never goes over plain HTTP
    auto body = Json::parse(request["body"].get<std::string>());
    CHECK(body["stream"] == false);
    CHECK(body["format"].is_object());
  }
  CHECK(codings_json(p.output())["codings"].size() > 10);
}

TEST_CASE("refused before a byte is sent: off the allow-list, incomplete anonymization, no budget", "[llm_run]") {
  Stub stub({});
  Project p;
  SECTION("an endpoint that is not on the allow-list") {
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port() == 65535 ? 1 : stub.port() + 1, 1'000'000));
    auto r = run_llm(p, "openai", stub.base_url());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("allow-list") != std::string::npos);
  }
  SECTION("anonymization turned off for people, raw egress not allowed") {
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 1'000'000,
                                            [](Json& j) { j["anonymization"]["actions"]["person"] = "keep"; }));
    auto r = run_llm(p, "openai", stub.base_url());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("refusing to send") != std::string::npos);
    CHECK(r.err.find("person values are kept") != std::string::npos);
  }
  SECTION("llm not among the destinations that get anonymized text") {
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 1'000'000, [](Json& j) {
                       j["anonymization"]["apply_to"] = Json::array({"mcp", "export"});
                     }));
    auto r = run_llm(p, "openai", stub.base_url());
    CHECK(r.exit_code == 2);  // the policy itself is refused: allow_raw_text is false
    CHECK(r.err.find("allow_raw_text") != std::string::npos);
  }
  SECTION("a token budget of zero") {
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 0));
    auto r = run_llm(p, "openai", stub.base_url());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("token_budget") != std::string::npos);
  }
  CHECK(stub.requests().empty());
}

TEST_CASE("raw text goes only when the policy allows it in so many words", "[llm_run]") {
  Stub stub({});
  Project p;
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000, [](Json& j) {
                     j["anonymization"]["actions"]["person"] = "keep";
                     j["egress"]["allow_raw_text"] = true;
                   }));
  auto r = run_llm(p, "openai", stub.base_url());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE_FALSE(stub.requests().empty());
  auto allowed = log_records(p.output(), "llm_raw_text_allowed");
  REQUIRE(allowed.size() == 1);
  CHECK(allowed[0]["gaps"][0] == "person values are kept (action \"keep\")");
}

TEST_CASE("TLS failures and redirects stop the run with nothing sent to the wrong place", "[llm_run]") {
  Project p;
  SECTION("a certificate for another host") {
    Stub stub({.host = "127.0.0.2"});  // the certificate names 127.0.0.1, localhost and ::1 only
    test::write_text(p.policy(), policy_for("https", "127.0.0.2", stub.port(), 1'000'000));
    auto r = run_llm(p, "openai", stub.base_url());
    INFO(r.out << r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.out.find("certificate") != std::string::npos);
    CHECK(stub.requests().empty());
  }
  SECTION("a certificate from a CA nobody trusts") {
    Stub stub({});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 1'000'000));
    // Another local CA than the one that signed the stub's certificate.
    REQUIRE(test::run_cqda({"certs", "--out", (p.dir / "other-ca").string()}).exit_code == 0);
    auto r = run_llm(p, "openai", stub.base_url(), {}, {}, p.dir / "other-ca" / "ca.crt");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.out.find("certificate") != std::string::npos);
    CHECK(stub.requests().empty());
    // A CA file that holds no certificate is refused before anything starts.
    auto bad = run_llm(p, "openai", stub.base_url(), {}, {}, test::source_dir() / "examples/roster.csv");
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("no PEM certificate") != std::string::npos);
  }
  SECTION("a redirect to another host is not followed") {
    Stub stub({.script = R"([{"status": 302, "headers": {"Location": "https://elsewhere.example/v1/chat/completions"}}])"});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
    auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.out.find("redirect") != std::string::npos);
    CHECK(stub.requests().size() == 1);
    CHECK(test::slurp(p.output() / "report.md").find("redirect") != std::string::npos);
  }
  SECTION("credentials refused") {
    for (int status : {401, 403}) {
      Stub stub({.script = "[{\"status\": " + std::to_string(status) + "}]"});
      test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
      auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"});
      CHECK(r.exit_code == 5);
      CHECK(r.out.find("credentials") != std::string::npos);
      CHECK(stub.requests().size() == 1);
    }
  }
  SECTION("a Retry-After longer than two minutes stops the run instead of waiting") {
    Stub stub({.script = R"([{"status": 429, "headers": {"Retry-After": "300"}}])"});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
    auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"});
    CHECK(r.exit_code == 5);
    CHECK(r.out.find("Retry-After") != std::string::npos);
    CHECK(stub.requests().size() == 1);
  }
  SECTION("an error message with control characters is recorded and printed safely") {
    Stub stub({.script = R"([{"status": 400, "body": "{\"error\": {\"message\": \"model \\u001b[31mnot found\"}}"}])"});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
    auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.out.find("HTTP 400: model  [31mnot found") != std::string::npos);
    CHECK(r.out.find('\x1b') == std::string::npos);
    auto summary = log_records(p.output(), "llm_coding");
    REQUIRE(summary.size() == 1);
    CHECK(summary[0]["stopped"].get<std::string>().find("HTTP 400") != std::string::npos);
  }
}

TEST_CASE("invented quotes are rejected and counted; invalid answers are retried, then reported, never half applied",
          "[llm_run]") {
  Project p;
  SECTION("invented quotes") {
    Json script = Json::array();
    for (int i = 0; i < 200; ++i) script.push_back({{"quotes", "invented"}});
    Stub stub({.script = script.dump()});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
    auto r = run_llm(p, "openai", stub.base_url());
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto summary = log_records(p.output(), "llm_coding")[0];
    CHECK(summary["codings"] == 0);
    CHECK(summary["rejected_quotes"].get<int>() > 10);
    CHECK(summary["rejected_quotes"] == summary["proposed"]);
    CHECK(summary["rejection_rate"] == 1.0);
    CHECK(codings_json(p.output())["codings"].empty());
    CHECK(test::slurp(p.output() / "report.md").find("rejected because the quote is not in the segment verbatim") !=
          std::string::npos);
  }
  SECTION("invalid JSON, then the wrong schema, then a good answer") {
    Stub stub({.script = R"([{"content": "not json"}, {"content": "{\"codings\": 5}"}])"});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
    auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto summary = log_records(p.output(), "llm_coding")[0];
    CHECK(summary["invalid_answers"] == 2);
    CHECK(summary["batches_failed"] == 0);
    CHECK(summary["batches_coded"] == summary["batches"]);
  }
  SECTION("a batch that never gets a valid answer is reported and nothing of it applied") {
    Stub stub({.script = R"([{"content": "not json"}, {"content": "not json"}, {"content": "{\"codings\": [{\"segment_id\": 1}]}"}])"});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
    auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 5);
    auto summary = log_records(p.output(), "llm_coding")[0];
    CHECK(summary["batches_failed"] == 1);
    CHECK(summary["batches_coded"].get<int>() == summary["batches"].get<int>() - 1);
    auto failed = log_records(p.output(), "llm_batch_failed");
    REQUIRE(failed.size() == 1);
    CHECK(failed[0]["batch"] == 0);
    // The stub codes every segment it is sent: the codings are exactly those of the batches
    // after the failed one (requests 0-2 were the first batch's three attempts).
    auto requests = stub.requests();
    REQUIRE(requests.size() == summary["batches"].get<std::size_t>() + 2);
    std::size_t later_segments = 0;
    for (std::size_t i = 3; i < requests.size(); ++i) {
      auto body = Json::parse(requests[i]["body"].get<std::string>());
      later_segments += Json::parse(body["messages"][1]["content"].get<std::string>())["segments"].size();
    }
    CHECK(codings_json(p.output())["codings"].size() == later_segments);
  }
}

TEST_CASE("429 with Retry-After, 500s, a timeout and a dropped connection are survived", "[llm_run]") {
  Stub stub({.script = R"([{"status": 429, "headers": {"Retry-After": "1"}}, {"status": 500}, {"status": 503},
                          {"delay_ms": 2500}, {"drop": true}])"});
  Project p;
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
  const auto start = std::chrono::steady_clock::now();
  auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1", "--llm-backoff", "20", "--llm-timeout", "1000", "--llm-max-attempts", "8"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto summary = log_records(p.output(), "llm_coding")[0];
  CHECK(summary["retries"] == 5);
  CHECK(summary["batches_coded"] == summary["batches"]);
  CHECK(seconds >= 1.0);  // Retry-After: 1 was honoured
  auto attempts = log_records(p.output(), "llm_request");
  REQUIRE(attempts.size() >= 6);
  CHECK(attempts[0]["status"] == 429);
  CHECK(attempts[1]["status"] == 500);
  CHECK(attempts[3]["error"].get<std::string>().find("timed out") != std::string::npos);
  CHECK(attempts[5]["attempt"] == 6);
}

TEST_CASE("the token budget stops a run cleanly, and the rerun resumes from the cache", "[llm_run]") {
  Stub stub({});
  Project p;
  // About three requests' worth of prompt tokens (each request is a few thousand).
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 9'000));
  auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 5);
  CHECK(r.out.find("token budget") != std::string::npos);
  auto summary = log_records(p.output(), "llm_coding")[0];
  const auto coded = summary["batches_coded"].get<std::size_t>();
  const auto batches = summary["batches"].get<std::size_t>();
  CHECK(coded > 0);
  CHECK(coded < batches);
  CHECK(summary["tokens_in"].get<std::uint64_t>() + summary["tokens_out"].get<std::uint64_t>() <= 9'000);
  CHECK_FALSE(codings_json(p.output())["codings"].empty());  // what was coded is kept
  CHECK(test::slurp(p.output() / "report.md").find("token budget") != std::string::npos);
  const std::size_t sent = stub.requests().size();
  CHECK(sent == coded);

  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
  auto resumed = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"}, p.dir / "out2");
  INFO(resumed.out << resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(stub.requests().size() == batches);  // only the batches not answered before were sent
  CHECK(log_records(p.dir / "out2", "llm_coding")[0]["cache_hits"] == coded);
}

TEST_CASE("a dry run writes exactly the requests that would be sent and sends nothing", "[llm_run]") {
  Stub stub({});
  Project p;
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
  auto r = run_llm(p, "openai", stub.base_url(), {"--dry-run"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(stub.requests().empty());
  CHECK_FALSE(fs::exists(p.output() / "report.md"));
  fs::path preview;
  for (const auto& e : fs::directory_iterator(p.output() / "llm-preview")) preview = e.path();
  REQUIRE(fs::exists(preview / "index.json"));
  auto index = Json::parse(test::slurp(preview / "index.json"));
  const auto previews = index["requests"].get<std::size_t>();
  CHECK(previews > 3);

  // The real run sends byte for byte the bodies the preview showed.
  auto real = run_llm(p, "openai", stub.base_url(), {}, p.dir / "out2");
  REQUIRE(real.exit_code == 0);
  auto requests = stub.requests();
  REQUIRE(requests.size() == previews);
  std::set<std::string> sent, shown;
  for (const auto& q : requests) sent.insert(q["body"].get<std::string>());
  for (const auto& e : fs::directory_iterator(preview))
    if (e.path().filename() != "index.json") shown.insert(test::slurp(e.path()));
  CHECK(sent == shown);
}

TEST_CASE("cqda serve: auto_code over MCP codes with the model under the same checks, and previews on request",
          "[llm_run][serve]") {
  Stub stub({});
  Project p;
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
  auto session = [&](const std::string& calls) { return serve_session(p, &stub, calls); };

  auto previewed = session(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"auto_code","arguments":{"dry_run":true}}})" "\n");
  INFO(previewed[2].dump());
  const Json& preview = previewed[2]["result"]["structuredContent"];
  CHECK(previewed[2]["result"]["isError"] == false);
  CHECK(preview["codings"] == 0);
  CHECK(preview["previews"].get<int>() >= 14);
  CHECK(stub.requests().empty());  // a preview sends nothing
  REQUIRE(preview["preview_folders"].size() == 14);
  CHECK(fs::exists(p.output() / preview["preview_folders"][0].get<std::string>() / "request-00001.json"));

  auto coded = session(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"auto_code","arguments":{}}})" "\n");
  INFO(coded[2].dump());
  const Json& result = coded[2]["result"]["structuredContent"];
  CHECK(coded[2]["result"]["isError"] == false);
  CHECK(result["documents"] == 14);
  CHECK(result["codings"].get<int>() > 100);
  CHECK(result["rejected_quotes"] == 0);
  const std::size_t sent = stub.requests().size();
  CHECK(sent >= 14);
  for (const auto& request : stub.requests()) CHECK(request["headers"]["authorization"] == "Bearer " + kApiKey);

  // The codings are the project's, as llm:stub-model; a second auto_code finds every answer
  // in the cache, sends nothing, and finds the same codings (adding a coding is idempotent).
  auto listed = session(
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_codings","arguments":{"coder":"llm:stub-model","limit":5}}})" "\n"
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"auto_code","arguments":{}}})" "\n");
  CHECK(listed[3]["result"]["structuredContent"]["codings"].size() == 5);
  CHECK(listed[4]["result"]["structuredContent"]["codings"] == result["codings"]);
  CHECK(stub.requests().size() == sent);
}

TEST_CASE("cqda serve: suggest_codes proposes new codes from uncoded segments, with verified quotes, and changes nothing",
          "[llm_run][serve]") {
  Project p;
  const fs::path examples = test::source_dir() / "examples";
  auto session = [&](const Stub* stub, const std::string& calls) { return serve_session(p, stub, calls); };
  const std::string call =
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"suggest_codes","arguments":{"max_segments":30}}})" "\n"
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_codebook","arguments":{}}})" "\n";

  SECTION("with a model") {
    Stub stub({});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
    auto r = session(&stub, call);
    INFO(r[2].dump());
    CHECK(r[2]["result"]["isError"] == false);
    const Json& result = r[2]["result"]["structuredContent"];
    CHECK(result["documents"] == 14);
    REQUIRE(result["proposals"].size() >= 14);  // the stub proposes one code per request
    for (const auto& proposal : result["proposals"]) {
      CHECK(proposal["name"].get<std::string>().rfind("Stub theme", 0) == 0);
      REQUIRE_FALSE(proposal["quotes"].empty());
      for (const auto& q : proposal["quotes"]) CHECK(q["end"].get<int>() > q["start"].get<int>());
    }
    // At most max_segments per document were sent.
    for (const auto& request : stub.requests()) {
      auto body = Json::parse(request["body"].get<std::string>());
      CHECK(Json::parse(body["messages"][1]["content"].get<std::string>())["segments"].size() <= 30);
      CHECK(body["response_format"]["json_schema"]["name"] == "code_proposals");
    }
    // Proposals are not codes: the codebook is unchanged.
    const auto& categories = r[3]["result"]["structuredContent"]["codebook"]["categories"];
    CHECK(categories.dump().find("Stub theme") == std::string::npos);
  }
  SECTION("invented quotes drop the proposal") {
    Json script = Json::array();
    for (int i = 0; i < 100; ++i) script.push_back({{"quotes", "invented"}});
    Stub stub({.script = script.dump()});
    test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
    auto r = session(&stub, call);
    const Json& result = r[2]["result"]["structuredContent"];
    CHECK(result["proposals"].empty());
    CHECK(result["rejected_quotes"].get<int>() > 14);
  }
  SECTION("without a model the tool says what is missing") {
    test::write_text(p.policy(), test::slurp(examples / "policy.json"));
    auto r = session(nullptr, call);
    CHECK(r[2]["result"]["isError"] == true);
    CHECK(r[2]["result"]["content"][0]["text"].get<std::string>().find("--llm-backend") != std::string::npos);
  }
}

TEST_CASE("an endpoint that refuses JSON Schema response formats gets validated JSON requests instead", "[llm_run]") {
  Stub stub({.script = R"([{"status": 400, "body": "{\"error\": {\"message\": \"response_format json_schema is not supported by this server\"}}"}])"});
  Project p;
  test::write_text(p.policy(), policy_for("https", "127.0.0.1", stub.port(), 10'000'000));
  auto r = run_llm(p, "openai", stub.base_url(), {"--llm-in-flight", "1"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto requests = stub.requests();
  REQUIRE(requests.size() >= 3);
  CHECK(Json::parse(requests[0]["body"].get<std::string>()).contains("response_format"));
  for (std::size_t i = 1; i < requests.size(); ++i)
    CHECK_FALSE(Json::parse(requests[i]["body"].get<std::string>()).contains("response_format"));
  CHECK(log_records(p.output(), "llm_structured_outputs_off").size() == 1);
  auto summary = log_records(p.output(), "llm_coding")[0];
  CHECK(summary["batches_coded"] == summary["batches"]);
  CHECK(summary["codings"].get<int>() > 100);
}
