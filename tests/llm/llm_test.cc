// The model side of coding, without a network: batches, the request each backend gets, the
// parsing of untrusted answers, quote verification, the cache and HTTP response framing.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "codebook/codebook.h"
#include "common/document.h"
#include "common/fd.h"
#include "common/json.h"
#include "llm/cache.h"
#include "llm/coding_prompt.h"
#include "llm/transport.h"
#include "support/test_support.h"

extern char** environ;

using namespace cqda;

namespace {

codebook::Codebook book() {
  auto b = codebook::load_codebook_text(R"J({"name": "Care", "version": 3, "categories": [
    {"id": "work", "name": "Work", "codes": [
      {"id": "workload", "name": "Workload", "definition": "Amount of work and staffing.",
       "inclusion": ["Too few staff"], "exclusion": ["Pay for extra hours"], "examples": ["We were short-staffed."]},
      {"id": "pay", "name": "Pay", "definition": "Wages and deductions."},
      {"id": "old", "name": "Old", "definition": "Retired code.", "status": "retired"}]}]})J",
                                        "codebook.json");
  REQUIRE(b);
  return std::move(b).value();
}

Document document(const std::string& id, const std::vector<std::string>& texts) {
  Document d;
  d.id = id;
  d.relative_path = id + ".txt";
  d.sha256 = std::string(64, 'a');
  for (const auto& t : texts) {
    Segment s;
    s.text = t;
    s.speaker = "P1";
    d.segments.push_back(s);
  }
  number_segments(d);
  render_document_text(d);
  return d;
}

llm::Settings openai() {
  llm::Settings s;
  s.backend = llm::Backend::kOpenAi;
  s.base_url = "https://llm.example/v1/";
  s.model = "gpt-test";
  return s;
}

}  // namespace

TEST_CASE("batches respect the segment and character limits and skip blank segments", "[llm]") {
  std::vector<Document> docs{document("a", {"one two", "  ", "three four five", "six"}), document("b", {"seven", "eight"})};
  llm::Settings s = openai();
  s.batch_segments = 2;
  s.batch_characters = 1000;
  auto batches = llm::make_batches(docs, s);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].items.size() == 2);
  CHECK(batches[0].items[1].segment->text == "three four five");  // the blank one is left out
  CHECK(batches[1].items[0].segment->text == "six");
  CHECK(batches[1].items[1].document->id == "b");  // batches cross documents
  CHECK(batches[2].index == 2);

  s.batch_segments = 20;
  s.batch_characters = 10;  // a segment longer than the limit goes alone
  batches = llm::make_batches(docs, s);
  CHECK(batches.size() == 4);
  CHECK(batches[1].items.size() == 1);
  CHECK(batches[1].items[0].segment->text == "three four five");
}

TEST_CASE("each backend gets the codebook, the segments and a schema of known ids", "[llm]") {
  auto cb = book();
  std::vector<Document> docs{document("a", {"We were short-staffed every night.", "The pay was low."})};
  auto batches = llm::make_batches(docs, openai());
  REQUIRE(batches.size() == 1);

  auto r = llm::build_coding_request(openai(), cb, batches[0]);
  CHECK(r.system.find("Amount of work and staffing.") != std::string::npos);
  CHECK(r.system.find("Exclude when") != std::string::npos);
  CHECK(r.system.find("Retired code.") == std::string::npos);
  CHECK(r.system.find("rationale first") != std::string::npos);
  auto body = parse_json(r.body, "body", {});
  REQUIRE(body);
  CHECK((*body)["model"] == "gpt-test");
  CHECK((*body)["temperature"] == 0);
  CHECK((*body)["messages"][1]["content"] == r.user);
  const Json& schema = (*body)["response_format"]["json_schema"]["schema"];
  CHECK(schema["properties"]["codings"]["items"]["properties"]["code_id"]["enum"] == Json::array({"workload", "pay"}));
  // Segment ids name files (and files may name people): the model sees batch ids only.
  CHECK(schema["properties"]["codings"]["items"]["properties"]["segment_id"]["enum"] == Json::array({"s1", "s2"}));
  CHECK(r.body.find("a.s0000") == std::string::npos);
  auto user = parse_json(r.user, "user", {});
  REQUIRE(user);
  CHECK((*user)["segments"][0]["text"] == "We were short-staffed every night.");
  CHECK(r.prompt_hash.size() == 64);

  auto ollama = openai();
  ollama.backend = llm::Backend::kOllama;
  ollama.base_url = "http://ollama:11434";
  CHECK(ollama.endpoint_url() == "http://ollama:11434/api/chat");
  CHECK(openai().endpoint_url() == "https://llm.example/v1/chat/completions");
  auto o = llm::build_coding_request(ollama, cb, batches[0]);
  auto obody = parse_json(o.body, "body", {});
  REQUIRE(obody);
  CHECK((*obody)["stream"] == false);
  CHECK((*obody)["format"] == schema);
  CHECK((*obody)["options"]["temperature"] == 0);
  CHECK(o.prompt_hash == r.prompt_hash);  // same prompt
  CHECK(o.cache_key != r.cache_key);      // another backend, endpoint and body

  auto other_model = openai();
  other_model.model = "gpt-other";
  CHECK(llm::build_coding_request(other_model, cb, batches[0]).cache_key != r.cache_key);
  CHECK(llm::build_coding_request(openai(), cb, batches[0]).cache_key == r.cache_key);  // deterministic
  auto plain = openai();
  plain.structured_outputs = false;
  auto pbody = parse_json(llm::build_coding_request(plain, cb, batches[0]).body, "body", {});
  CHECK_FALSE(pbody->contains("response_format"));
}

TEST_CASE("chat responses are parsed strictly", "[llm]") {
  auto ok = llm::parse_chat_response(llm::Backend::kOpenAi,
                                     R"({"choices":[{"message":{"role":"assistant","content":"{}"},"finish_reason":"stop"}],
                                         "usage":{"prompt_tokens":120,"completion_tokens":7}})");
  REQUIRE(ok);
  CHECK(ok->content == "{}");
  CHECK(ok->prompt_tokens == 120);
  CHECK(ok->completion_tokens == 7);
  CHECK(ok->usage_reported);

  auto ollama = llm::parse_chat_response(llm::Backend::kOllama,
                                         R"({"message":{"role":"assistant","content":"x"},"done":true,"prompt_eval_count":9,"eval_count":2})");
  REQUIRE(ollama);
  CHECK(ollama->content == "x");
  CHECK(ollama->prompt_tokens == 9);

  CHECK_FALSE(llm::parse_chat_response(llm::Backend::kOpenAi, "not json"));
  CHECK_FALSE(llm::parse_chat_response(llm::Backend::kOpenAi, R"({"choices":[]})"));
  CHECK_FALSE(llm::parse_chat_response(llm::Backend::kOpenAi, R"({"choices":[{"message":{"content":null}}]})"));
  auto cut = llm::parse_chat_response(llm::Backend::kOpenAi,
                                      R"({"choices":[{"message":{"content":"{\"codings\":["},"finish_reason":"length"}]})");
  REQUIRE_FALSE(cut);
  CHECK(cut.error().message.find("length") != std::string::npos);
  auto refused = llm::parse_chat_response(llm::Backend::kOpenAi, R"({"choices":[{"message":{"content":null,"refusal":"no"}}]})");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("refused") != std::string::npos);
  CHECK_FALSE(llm::parse_chat_response(llm::Backend::kOllama, R"({"message":{"content":"x"},"done":false})"));
  CHECK_FALSE(llm::parse_chat_response(llm::Backend::kOpenAi, std::string(100, '[') + std::string(100, ']')));
}

TEST_CASE("an answer must be JSON of the schema, or none of it is used", "[llm]") {
  auto cb = book();
  std::vector<Document> docs{document("a", {"We were short-staffed every night.", "The pay was low."})};
  auto batch = llm::make_batches(docs, openai())[0];
  auto request = llm::build_coding_request(openai(), cb, batch);

  auto good = llm::parse_answer(
      R"({"codings":[{"segment_id":"s1","rationale":"staffing","code_id":"workload","quote":"short-staffed"}]})",
      request.schema);
  REQUIRE(good);
  REQUIRE(good->size() == 1);
  CHECK((*good)[0].quote == "short-staffed");

  auto fenced = llm::parse_answer("```json\n{\"codings\":[]}\n```", request.schema);
  REQUIRE(fenced);
  CHECK(fenced->empty());

  auto unknown_code = llm::parse_answer(
      R"({"codings":[{"segment_id":"s1","rationale":"r","code_id":"old","quote":"short-staffed"}]})", request.schema);
  REQUIRE_FALSE(unknown_code);
  CHECK(unknown_code.error().message.find("/codings/0/code_id") != std::string::npos);
  // One bad coding refuses the whole answer: never half applied.
  auto one_bad = llm::parse_answer(
      R"({"codings":[{"segment_id":"s1","rationale":"r","code_id":"pay","quote":"x"},
                     {"segment_id":"s9","rationale":"r","code_id":"pay","quote":"x"}]})",
      request.schema);
  CHECK_FALSE(one_bad);
  CHECK_FALSE(llm::parse_answer(R"({"codings":[{"segment_id":"s1","code_id":"pay","quote":"x"}]})", request.schema));
  CHECK_FALSE(llm::parse_answer(
      R"({"codings":[{"segment_id":"s1","rationale":"r","code_id":"pay","quote":"x","extra":1}]})", request.schema));
  CHECK_FALSE(llm::parse_answer("not json", request.schema));
  CHECK_FALSE(llm::parse_answer(R"({"codings": 5})", request.schema));
  CHECK_FALSE(llm::parse_answer("", request.schema));
}

TEST_CASE("quotes are verified verbatim against their own segment; invented quotes are rejected and counted", "[llm]") {
  auto cb = book();
  std::vector<Document> docs{document("a", {"Żaneta said we were short-staffed.", "The pay was low."})};
  auto s = openai();
  auto batch = llm::make_batches(docs, s)[0];
  auto request = llm::build_coding_request(s, cb, batch);
  std::vector<llm::ProposedCoding> proposals{
      {"s1", "staffing", "workload", " short-staffed "},     // trimmed, then found
      {"s1", "again", "workload", "short-staffed"},          // the same coding twice: kept once
      {"s1", "made up", "workload", "we never had enough staff"},  // invented
      {"s1", "other segment", "pay", "The pay was low."},    // from the other segment
      {"s2", "pay", "pay", "pay was low"},
      {"s2", "case", "pay", "PAY WAS LOW"},                  // case changed
  };
  auto v = llm::verify_codings(proposals, batch, cb, s, request);
  CHECK(v.rejected == 3);
  REQUIRE(v.codings.size() == 2);
  const auto& first = v.codings[0];
  const Segment& s0 = docs[0].segments[0];
  CHECK(first.segment_id == "a.s0000");
  CHECK(first.quote == "short-staffed");
  // Code points, not bytes: "Żaneta said we were " is 20 code points (Ż is two bytes).
  CHECK(first.start == s0.start + 20);
  CHECK(first.end == first.start + 13);
  CHECK(first.coder == "llm:gpt-test");
  CHECK(first.prompt_hash == request.prompt_hash);
  CHECK(first.cache_key == request.cache_key);
  CHECK(first.codebook_version == 3);
  CHECK(first.rationale == "staffing");
  CHECK(v.codings[1].quote == "pay was low");
  CHECK(v.rejected_examples.size() == 3);
}

TEST_CASE("the response cache returns what was stored and ignores damaged entries", "[llm]") {
  test::TempDir dir;
  llm::ResponseCache cache(dir / "llm");
  const std::string key(64, 'b');
  CHECK_FALSE(cache.find(key));
  llm::ChatAnswer a;
  a.content = "{\"codings\":[]}";
  a.prompt_tokens = 10;
  a.completion_tokens = 3;
  a.usage_reported = true;
  REQUIRE(cache.store(key, a, "m"));
  auto found = cache.find(key);
  REQUIRE(found);
  CHECK(found->content == a.content);
  CHECK(found->prompt_tokens == 10);
  CHECK_FALSE(cache.find("../../etc/passwd"));
  CHECK_FALSE(cache.store("../x", a, "m"));
  test::write_text(cache.path_for(key), "{not json");
  CHECK_FALSE(cache.find(key));
  // An entry filed under another key is not taken.
  const std::string other(64, 'c');
  REQUIRE(cache.store(other, a, "m"));
  std::filesystem::copy_file(cache.path_for(other), cache.path_for(key), std::filesystem::copy_options::overwrite_existing);
  CHECK_FALSE(cache.find(key));
}

TEST_CASE("HTTP responses are framed by Beast's parser within bounds", "[llm][http]") {
  auto ok = llm::parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 1024);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->body == "{}");

  auto chunked = llm::parse_http_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 1024);
  REQUIRE(chunked);
  CHECK(chunked->body == "abcde");

  auto until_close = llm::parse_http_response("HTTP/1.1 200 OK\r\n\r\nall of it", 1024);
  REQUIRE(until_close);
  CHECK(until_close->body == "all of it");

  auto limited = llm::parse_http_response("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n", 1024);
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(limited->retry_after == "7");
  auto redirect = llm::parse_http_response("HTTP/1.1 302 Found\r\nLocation: https://other.example/\r\nContent-Length: 0\r\n\r\n", 1024);
  REQUIRE(redirect);
  CHECK(redirect->location == "https://other.example/");

  CHECK_FALSE(llm::parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", 1024));  // over the limit
  // A length far over the limit is refused from the header, before any memory is set aside
  // for it (Beast 1.74 would otherwise reserve it; found by fuzz/llm_http_fuzz.cc).
  CHECK_FALSE(llm::parse_http_response("HTTP/1.1 240 \r\nContent-Length:2555555555555550 \r\n\r\nx", 1024));
  // A chunk-size line that never ends is bounded too.
  CHECK_FALSE(llm::parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + std::string(70000, 'a'), 1024));
  CHECK_FALSE(llm::parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1024));  // cut short
  CHECK_FALSE(llm::parse_http_response("HTTP/1.1 100 Continue\r\n\r\n", 1024));
  CHECK_FALSE(llm::parse_http_response("garbage\r\n\r\n", 1024));
  CHECK_FALSE(llm::parse_http_response("", 1024));
  CHECK_FALSE(llm::parse_http_response("HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'a') + "\r\n\r\n", 1 << 20));
}

TEST_CASE("text from an endpoint is made printable: valid UTF-8, no control characters, bounded", "[llm]") {
  CHECK(llm::printable("plain") == "plain");
  CHECK(llm::printable("Żaneta") == "Żaneta");
  CHECK(llm::printable("a\x1b[31mb\nc") == "a [31mb c");
  CHECK(llm::printable("bad \xff\xfe byte") == "bad ?? byte");
  CHECK(llm::printable("c1 \xc2\x9b here") == "c1   here");
  CHECK(llm::printable("truncated \xc5") == "truncated ?");
  CHECK(llm::printable("ŻŻŻŻ", 2) == "ŻŻ...");
}

TEST_CASE("requests carry the host, the key only when there is one, and a length", "[llm][http]") {
  auto with_key = llm::make_post_request("https://llm.example:8443/v1/chat/completions", "{}", "sk-test");
  CHECK(with_key.starts_with("POST /v1/chat/completions HTTP/1.1\r\nHost: llm.example:8443\r\n"));
  CHECK(with_key.find("Authorization: Bearer sk-test\r\n") != std::string::npos);
  CHECK(with_key.find("Content-Length: 2\r\n") != std::string::npos);
  CHECK(with_key.ends_with("\r\n\r\n{}"));
  auto no_key = llm::make_post_request("https://api.example/v1/chat/completions", "{}", "");
  CHECK(no_key.find("Host: api.example\r\n") != std::string::npos);
  CHECK(no_key.find("Authorization") == std::string::npos);
  // Azure OpenAI takes the key as api-key.
  auto azure = llm::make_post_request("https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21",
                                      "{}", "sk-test", llm::KeyHeader::kApiKey);
  CHECK(azure.starts_with("POST /openai/deployments/d/chat/completions?api-version=2024-10-21 HTTP/1.1\r\n"));
  CHECK(azure.find("api-key: sk-test\r\n") != std::string::npos);
  CHECK(azure.find("Authorization") == std::string::npos);
  // Never over plain HTTP, even when a key is configured.
  auto plain = llm::make_post_request("http://127.0.0.1:11434/api/chat", "{}", "sk-test");
  CHECK(plain.find("Authorization") == std::string::npos);
  CHECK(plain.find("sk-test") == std::string::npos);
}

// The transport against llm_stub over TLS, from this process: a socket connected here and
// handed to exchange_over as the supervisor hands one to the LLM caller.
namespace {

struct TlsStub {
  test::TempDir dir;
  pid_t pid = -1;
  int port = 0;
  TlsStub() {
    REQUIRE(test::run_cqda({"certs", "--out", (dir / "certs").string()}).exit_code == 0);
    std::vector<std::string> args{CQDA_LLM_STUB, "--listen", "127.0.0.1:0", "--port-file", (dir / "port").string(),
                                  "--record", (dir / "requests.jsonl").string(), "--tls-cert",
                                  (dir / "certs" / "server.crt").string(), "--tls-key", (dir / "certs" / "server.key").string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    for (int i = 0; i < 500 && !std::filesystem::exists(dir / "port"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    port = std::stoi(test::slurp(dir / "port"));
  }
  ~TlsStub() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
  // A connected, non-blocking socket to the stub.
  UniqueFd connect() const {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
    return fd;
  }
};

}  // namespace

TEST_CASE("TLS: the certificate must name the host asked for, by DNS name or by IP address", "[llm][tls]") {
  TlsStub stub;
  auto tls = llm::ClientTls::create(stub.dir / "certs" / "ca.crt");
  REQUIRE(tls);
  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"{\"segments\":[]}"}],)"
                           R"("response_format":{"type":"json_schema","json_schema":{"name":"codings","schema":)"
                           R"({"properties":{"codings":{"items":{"properties":{"code_id":{"enum":["a"]}}}}}}}}})";
  auto exchange = [&](const std::string& host) {
    const std::string url = "https://" + host + ":" + std::to_string(stub.port) + "/v1/chat/completions";
    const std::string request = llm::make_post_request(url, body, "");
    llm::Exchange x;
    x.host = host;
    x.tls = true;
    x.request = request;
    x.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    llm::ExchangeStats stats;
    UniqueFd fd = stub.connect();
    auto reply = llm::exchange_over(fd.get(), tls->get(), x, stats);
    return std::make_pair(std::move(reply), stats);
  };
  for (const std::string host : {"localhost", "127.0.0.1"}) {  // both are in the certificate
    auto [reply, stats] = exchange(host);
    INFO(host << ": " << (reply ? "" : reply.error().message));
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(stats.bytes_sent > 0);
    CHECK_FALSE(stats.certificate_refused);
  }
  for (const std::string host : {"llm.example.org", "127.0.0.2"}) {  // the same server under another name
    auto [reply, stats] = exchange(host);
    REQUIRE_FALSE(reply);
    CHECK(stats.certificate_refused);
    CHECK(stats.bytes_sent == 0);  // nothing of the request was written
    CHECK(reply.error().message.find("mismatch") != std::string::npos);
  }
  // Trusting only the system store (or nothing) refuses the test CA's certificate.
  auto system_only = llm::ClientTls::create(std::nullopt);
  REQUIRE(system_only);
  UniqueFd fd = stub.connect();
  llm::Exchange x;
  x.host = "localhost";
  const std::string request = llm::make_post_request("https://localhost:1/v1/chat/completions", body, "");
  x.request = request;
  x.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  llm::ExchangeStats stats;
  auto refused = llm::exchange_over(fd.get(), system_only->get(), x, stats);
  REQUIRE_FALSE(refused);
  CHECK(stats.certificate_refused);
}

TEST_CASE("settings: Azure hosts send api-key, an api-version goes into the URL, bad values are refused", "[llm]") {
  auto complete = [](llm::Settings s) {
    auto st = llm::complete_settings(s, true, "/nonexistent/secret");
    return std::make_pair(static_cast<bool>(st), s);
  };
  llm::Settings azure;
  azure.backend = llm::Backend::kOpenAi;
  azure.base_url = "https://res.openai.azure.com/openai/deployments/coder";
  azure.model = "gpt-4o";
  azure.api_version = "2024-10-21";
  auto [ok, s] = complete(azure);
  REQUIRE(ok);
  CHECK(s.key_header == llm::KeyHeader::kApiKey);
  CHECK(s.endpoint_url() == "https://res.openai.azure.com/openai/deployments/coder/chat/completions?api-version=2024-10-21");

  llm::Settings openai = azure;
  openai.base_url = "https://api.openai.com/v1";
  openai.api_version.clear();
  auto [ok2, s2] = complete(openai);
  REQUIRE(ok2);
  CHECK(s2.key_header == llm::KeyHeader::kBearer);
  CHECK(s2.endpoint_url() == "https://api.openai.com/v1/chat/completions");
  // A host that only ends like Azure's does not count.
  openai.base_url = "https://notazure.com/v1";
  CHECK(complete(openai).second.key_header == llm::KeyHeader::kBearer);
  // An explicit choice wins.
  openai.key_header = llm::KeyHeader::kApiKey;
  CHECK(complete(openai).second.key_header == llm::KeyHeader::kApiKey);

  llm::Settings bad = azure;
  bad.api_version = "2024-10-21&x=1";
  CHECK_FALSE(complete(bad).first);
  bad.api_version = "2024-10-21";
  bad.backend = llm::Backend::kOllama;
  CHECK_FALSE(complete(bad).first);
  CHECK(llm::key_header_from_name("bearer") == llm::KeyHeader::kBearer);
  CHECK(llm::key_header_from_name("api-key") == llm::KeyHeader::kApiKey);
  CHECK_FALSE(llm::key_header_from_name("Bearer"));
}
