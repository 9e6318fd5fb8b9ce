// llm_stub: a test-only stand-in for an OpenAI-compatible Chat Completions endpoint and an
// Ollama /api/chat endpoint, deterministic and offline. Tests start it as a separate process
// (its path is CQDA_LLM_STUB) and read what it was sent from the record file. Never installed.
//
//   llm_stub --listen HOST:PORT --port-file FILE --record FILE
//            [--tls-cert FILE --tls-key FILE] [--script FILE] [--delay-ms N]
//
// Startup: listens (port 0 picks a free one), then writes the bound port as decimal text to
// the port file through a temporary file and a rename, so a reader sees all of it or nothing.
// With --tls-cert/--tls-key it speaks HTTPS with the server's own TLS context (http/tls.h).
//
// Per request: one request per connection, answered with Connection: close. Each complete
// request gets the next number n (0-based, in arrival order) and one JSON line in the record
// file, flushed before anything is answered. Element n of the --script array, if present,
// changes the answer (ScriptStep below); otherwise:
//   POST .../chat/completions  OpenAI shape; POST /api/chat  Ollama shape; else 404.
// The default answer codes every non-blank segment of the last user message (a JSON text
// {"segments":[{"segment_id","text"}...]}) with the schema's code ids in turn, quoting the
// segment's first six words verbatim.
//
// One thread runs every connection as a coroutine, so connections are served concurrently
// (delays are timers) and request numbering and the record file need no lock.
//
// Exit: 0 on SIGINT or SIGTERM; 2 when it cannot start (bad arguments, unreadable or invalid
// files, address not bindable); 1 if accepting fails later.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/files.h"
#include "common/json.h"
#include "http/listen.h"
#include "http/tls.h"

namespace {

using cqda::Json;
using cqda::Result;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Request = bhttp::request<bhttp::string_body>;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kMaxBodyBytes = 16u << 20;
constexpr std::size_t kMaxFileBytes = 16u << 20;         // script, certificate and key files
constexpr auto kIoTimeout = std::chrono::seconds(30);    // handshake, reading, writing
constexpr auto kShutdownTime = std::chrono::seconds(1);  // waiting for the client's close_notify
constexpr std::size_t kQuoteWords = 6;
constexpr const char* kInventedQuote = "This sentence was never said by anyone.";

// One element of the --script array. Every key is optional; unknown keys are refused at
// startup, so a typo in a test fails loudly instead of silently testing the default.
struct ScriptStep {
  std::optional<unsigned> status;      // answer this instead of 200, whatever the request
  std::optional<std::string> body;     // with `status`: the body instead of a JSON error
  Headers headers;                     // added to whatever is answered
  std::chrono::milliseconds delay{0};  // on top of --delay-ms
  bool drop = false;                   // close after reading (and the delay) without answering
  std::optional<std::string> content;  // the assistant message's content, verbatim
  bool invented_quotes = false;        // default codings, but quotes that are in no segment
  std::optional<std::uint64_t> prompt_tokens, completion_tokens;
};

// Process-wide state, touched only from the io_context's single thread.
struct Stub {
  std::vector<ScriptStep> script;
  std::chrono::milliseconds delay{0};
  std::ofstream record;
  std::unique_ptr<ssl::context> tls;  // null: plain HTTP
  std::uint64_t requests = 0;         // complete requests so far: the next request's n
};

// The answer to one request; a dropped connection has none.
struct Reply {
  unsigned status = 200;
  std::string body;
};

// ---- the script -------------------------------------------------------------------------

bool has_line_break(const std::string& text) {
  return text.find_first_of("\r\n") != std::string::npos;
}

Result<ScriptStep> parse_step(const Json& element, std::size_t index) {
  auto fail = [&](const std::string& why) {
    return cqda::make_error("script element " + std::to_string(index) + ": " + why);
  };
  if (!element.is_object()) return fail("not an object");
  ScriptStep step;
  for (const auto& [key, value] : element.items()) {
    if (key == "status" && value.is_number_unsigned() && value >= 200 && value <= 599) {
      step.status = value.get<unsigned>();
    } else if (key == "body" && value.is_string()) {
      step.body = value.get<std::string>();
    } else if (key == "headers" && value.is_object()) {
      for (const auto& [name, text] : value.items()) {
        // A line break would let a script forge headers or split the response.
        if (!text.is_string() || name.empty() || has_line_break(name) ||
            has_line_break(text.get<std::string>()))
          return fail("header '" + name + "' needs a one-line string value");
        step.headers.emplace_back(name, text.get<std::string>());
      }
    } else if (key == "delay_ms" && value.is_number_unsigned() && value <= 600000) {
      step.delay = std::chrono::milliseconds(value.get<std::uint64_t>());
    } else if (key == "drop" && value.is_boolean()) {
      step.drop = value.get<bool>();
    } else if (key == "content" && value.is_string()) {
      step.content = value.get<std::string>();
    } else if (key == "quotes" && value == "invented") {
      step.invented_quotes = true;
    } else if (key == "prompt_tokens" && value.is_number_unsigned()) {
      step.prompt_tokens = value.get<std::uint64_t>();
    } else if (key == "completion_tokens" && value.is_number_unsigned()) {
      step.completion_tokens = value.get<std::uint64_t>();
    } else {
      return fail("unknown key or bad value: \"" + key + "\": " + value.dump());
    }
  }
  if (step.body && !step.status) return fail("\"body\" needs \"status\"");
  return step;
}

Result<std::vector<ScriptStep>> load_script(const std::string& path) {
  auto text = cqda::read_file(path, kMaxFileBytes);
  if (!text) return text.error();
  auto parsed = cqda::parse_json(*text, path, cqda::JsonLimits{});
  if (!parsed) return parsed.error();
  if (!parsed->is_array()) return cqda::make_error(path + ": the script must be a JSON array");
  std::vector<ScriptStep> steps;
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    auto step = parse_step((*parsed)[i], i);
    if (!step) return cqda::make_error(path + ": " + step.error().message);
    steps.push_back(std::move(*step));
  }
  return steps;
}

// ---- the answers (no I/O) ------------------------------------------------------------------

std::string error_body(const std::string& message) {
  return Json{{"error", {{"message", message}}}}.dump(-1, ' ', false,
                                                      Json::error_handler_t::replace);
}

// `json` followed through nested object members, or null where one is missing.
const Json* member(const Json& json, std::initializer_list<const char*> path) {
  const Json* at = &json;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &(*at)[key];
  }
  return at;
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// `text` from its first non-space byte to the end of its `words`-th word (ASCII whitespace
// separates words, so a multi-byte UTF-8 character is never cut); empty if `text` is blank.
std::string_view leading_words(std::string_view text, std::size_t words) {
  std::size_t begin = 0;
  while (begin < text.size() && is_space(text[begin])) ++begin;
  std::size_t end = begin;
  for (std::size_t word = 0; word < words; ++word) {
    while (end < text.size() && is_space(text[end])) ++end;
    if (end == text.size()) break;
    while (end < text.size() && !is_space(text[end])) ++end;
  }
  return text.substr(begin, end - begin);
}

// The default assistant content: one coding per non-blank segment of the last user message;
// or, when the schema asks for code proposals (inductive coding), one proposal quoting every
// non-blank segment.
Result<std::string> default_content(const Json& messages, const Json* schema,
                                    bool invented_quotes) {
  const bool proposals = schema && member(*schema, {"properties", "proposals"});
  const Json* codes =
      schema ? member(*schema, {"properties", "codings", "items", "properties", "code_id", "enum"})
             : nullptr;
  if (!proposals && (!codes || !codes->is_array() || codes->empty()))
    return cqda::make_error("the schema has no codings.items.properties.code_id.enum");
  const Json* user = nullptr;
  for (const Json& message : messages)
    if (message.is_object() && message.value("role", "") == "user") user = &message;
  if (!user || !(*user)["content"].is_string())
    return cqda::make_error("no user message with string content");
  auto input =
      cqda::parse_json((*user)["content"].get<std::string>(), "user message", cqda::JsonLimits{});
  if (!input) return input.error();
  const Json* segments = member(*input, {"segments"});
  if (!segments || !segments->is_array())
    return cqda::make_error("user message: no \"segments\" array");

  Json codings = Json::array();
  Json quotes = Json::array();
  for (std::size_t i = 0; i < segments->size(); ++i) {
    const Json& segment = (*segments)[i];
    const Json* id = member(segment, {"segment_id"});
    const Json* text = member(segment, {"text"});
    if (!id || !text || !text->is_string())
      return cqda::make_error("user message: segment " + std::to_string(i) +
                              " needs \"segment_id\" and a string \"text\"");
    std::string_view quote = leading_words(text->get_ref<const std::string&>(), kQuoteWords);
    if (quote.empty()) continue;  // blank segments get no coding
    if (proposals) {
      if (quotes.size() < 20)
        quotes.push_back({{"segment_id", *id}, {"quote", invented_quotes ? std::string(kInventedQuote) : std::string(quote)}});
      continue;
    }
    codings.push_back(
        {{"segment_id", *id},
         {"rationale", "stub: segment " + std::to_string(i)},
         {"code_id", (*codes)[i % codes->size()]},
         {"quote", invented_quotes ? std::string(kInventedQuote) : std::string(quote)}});
  }
  if (proposals) {
    Json list = Json::array();
    if (!quotes.empty())
      list.push_back({{"name", "Stub theme " + std::to_string(segments->size())},
                      {"definition", "Segments the stub grouped together."},
                      {"rationale", "stub: every segment of the batch"},
                      {"quotes", std::move(quotes)}});
    return Json{{"proposals", std::move(list)}}.dump();
  }
  return Json{{"codings", std::move(codings)}}.dump();
}

enum class Api { kOpenAi, kOllama };

std::optional<Api> api_for(const Request& request) {
  if (request.method() != bhttp::verb::post) return std::nullopt;
  std::string_view path(request.target().data(), request.target().size());
  path = path.substr(0, path.find('?'));
  if (path == "/api/chat") return Api::kOllama;
  if (path.ends_with("/chat/completions")) return Api::kOpenAi;
  return std::nullopt;
}

Reply answer(const Request& request, std::uint64_t n, const ScriptStep& step) {
  if (step.status)
    return {*step.status,
            step.body.value_or(error_body("stub status " + std::to_string(*step.status)))};
  auto api = api_for(request);
  if (!api)
    return {404, error_body("llm_stub has no " + std::string(request.method_string()) + " " +
                            std::string(request.target()))};
  auto body = cqda::parse_json(request.body(), "request body", cqda::JsonLimits{});
  if (!body) return {400, error_body(body.error().message)};
  const Json* model = member(*body, {"model"});
  const Json* messages = member(*body, {"messages"});
  if (!model || !model->is_string() || !messages || !messages->is_array())
    return {400, error_body("request body: needs a string \"model\" and an array \"messages\"")};

  std::string content;
  if (step.content) {
    content = *step.content;
  } else {
    const Json* schema = *api == Api::kOpenAi
                             ? member(*body, {"response_format", "json_schema", "schema"})
                             : member(*body, {"format"});
    // Without a response format (a client that gave up structured outputs), the code ids are
    // read from the system message's codebook lines "- <id>: ...".
    Json from_prompt;
    if (!schema) {
      Json ids = Json::array();
      for (const Json& message : *messages) {
        if (!message.is_object() || message.value("role", "") != "system" || !message["content"].is_string()) continue;
        const std::string& text = message["content"].get_ref<const std::string&>();
        for (std::size_t at = 0; (at = text.find("\n- ", at)) != std::string::npos; ++at) {
          const std::size_t colon = text.find(':', at + 3);
          const std::size_t newline = text.find('\n', at + 3);
          if (colon != std::string::npos && colon < newline && text.find(' ', at + 3) > colon)
            ids.push_back(text.substr(at + 3, colon - at - 3));
        }
      }
      from_prompt = {{"properties", {{"codings", {{"items", {{"properties", {{"code_id", {{"enum", ids}}}}}}}}}}}};
      schema = &from_prompt;
    }
    auto made = default_content(*messages, schema, step.invented_quotes);
    if (!made) return {400, error_body(made.error().message)};
    content = std::move(*made);
  }
  std::uint64_t prompt = step.prompt_tokens.value_or((request.body().size() + 3) / 4);
  std::uint64_t completion = step.completion_tokens.value_or((content.size() + 3) / 4);
  Json message = {{"role", "assistant"}, {"content", content}};
  if (*api == Api::kOllama)
    return {200, Json{{"model", *model},
                      {"created_at", "2026-01-01T00:00:00Z"},
                      {"message", message},
                      {"done", true},
                      {"done_reason", "stop"},
                      {"prompt_eval_count", prompt},
                      {"eval_count", completion}}
                     .dump()};
  Json choice = {{"index", 0}, {"message", message}, {"finish_reason", "stop"}};
  return {200, Json{{"id", "chatcmpl-stub-" + std::to_string(n)},
                    {"object", "chat.completion"},
                    {"created", 0},
                    {"model", *model},
                    {"choices", Json::array({choice})},
                    {"usage",
                     {{"prompt_tokens", prompt},
                      {"completion_tokens", completion},
                      {"total_tokens", prompt + completion}}}}
                   .dump()};
}

// One record line: header names in lower case (repeated headers joined with ", "); bytes that
// are not UTF-8 become U+FFFD, since the record must stay JSON.
void record(Stub& stub, std::uint64_t n, const Request& request) {
  Json headers = Json::object();
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value(field.value());
    if (headers.contains(name)) value = headers[name].get<std::string>() + ", " + value;
    headers[name] = std::move(value);
  }
  Json line = {{"n", n},
               {"method", std::string(request.method_string())},
               {"target", std::string(request.target())},
               {"headers", std::move(headers)},
               {"body", request.body()}};
  stub.record << line.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n' << std::flush;
  if (!stub.record) std::cerr << "llm_stub: writing the record file failed\n";
}

// ---- connections -------------------------------------------------------------------------

template <typename Stream>
net::awaitable<void> write_reply(Stream& stream, Reply reply, const Headers& extra) {
  bhttp::response<bhttp::string_body> response;
  response.version(11);
  response.result(reply.status);
  response.set(bhttp::field::content_type, "application/json");
  for (const auto& [name, value] : extra) response.set(name, value);  // may replace the type
  response.keep_alive(false);
  // These statuses may not carry a body (RFC 9110 §6.4.1).
  if (reply.status != 204 && reply.status != 304) response.body() = std::move(reply.body);
  response.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(kIoTimeout);
  co_await bhttp::async_write(stream, response, net::use_awaitable);

  beast::error_code ignored;  // the client may already be gone; the answer is out either way
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  } else {
    beast::get_lowest_layer(stream).expires_after(kShutdownTime);
    co_await stream.async_shutdown(net::redirect_error(net::use_awaitable, ignored));
  }
}

// Reads one request, records it, waits, and answers (or drops) as the script says.
template <typename Stream>
net::awaitable<void> exchange(Stream& stream, Stub& stub) {
  auto& socket = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxBodyBytes);
  beast::error_code ec;
  socket.expires_after(kIoTimeout);
  co_await bhttp::async_read_header(stream, buffer, parser,
                                    net::redirect_error(net::use_awaitable, ec));
  // curl sends Expect: 100-continue before larger bodies and would otherwise wait a second.
  if (!ec && beast::iequals(parser.get()[bhttp::field::expect], "100-continue"))
    co_await net::async_write(
        stream, net::buffer(std::string_view("HTTP/1.1 100 Continue\r\n\r\n")), net::use_awaitable);
  if (!ec)
    co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
  // A Content-Length over the limit fails already at the header. (Here and below, what is
  // passed to write_reply is a named object: GCC 12 destroyed a Reply built inside the
  // co_await expression twice.)
  if (ec == bhttp::error::body_limit) {
    static const Headers kNoHeaders;
    Reply too_large{413, error_body("request body over 16 MiB")};
    co_await write_reply(stream, std::move(too_large), kNoHeaders);
    co_return;
  }
  if (ec) co_return;  // a client that connects and leaves, or never finishes: no request

  const Request& request = parser.get();
  std::uint64_t n = stub.requests++;
  record(stub, n, request);
  static const ScriptStep kDefault;
  const ScriptStep& step = n < stub.script.size() ? stub.script[n] : kDefault;
  if (auto delay = stub.delay + step.delay; delay.count() > 0) {
    auto executor = co_await net::this_coro::executor;
    net::steady_timer timer(executor, delay);
    co_await timer.async_wait(net::use_awaitable);
  }
  if (step.drop) {
    socket.close();  // no TLS close_notify either: the client sees the connection just end
    co_return;
  }
  Reply reply = answer(request, n, step);
  co_await write_reply(stream, std::move(reply), step.headers);
}

net::awaitable<void> serve(tcp::socket socket, Stub& stub) {
  if (!stub.tls) {
    beast::tcp_stream stream(std::move(socket));
    co_await exchange(stream, stub);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *stub.tls);
  beast::get_lowest_layer(stream).expires_after(kIoTimeout);
  co_await stream.async_handshake(ssl::stream_base::server, net::use_awaitable);
  co_await exchange(stream, stub);
}

// Writes a coroutine's exception, if it ended with one, on stderr for the test's log.
bool report_failure(const char* what, std::exception_ptr failure) {
  if (!failure) return false;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    std::cerr << "llm_stub: " << what << ": " << e.what() << "\n";
  }
  return true;
}

// A connection's failure (TLS handshake, write, timeout) ends that connection only.
net::awaitable<void> accept_connections(tcp::acceptor& acceptor, Stub& stub) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(net::use_awaitable);
    // As real servers do: an answer written in parts must not wait for the client's delayed ACK.
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    net::co_spawn(acceptor.get_executor(), serve(std::move(socket), stub),
                  [](std::exception_ptr failure) { report_failure("connection", failure); });
  }
}

// ---- startup -----------------------------------------------------------------------------

struct Options {
  std::string listen, port_file, record, tls_cert, tls_key, script;
  unsigned delay_ms = 0;
};

// Everything the command line names, loaded and checked before the port is published.
cqda::Status set_up(const Options& options, Stub& stub) {
  if (!options.script.empty()) {
    auto script = load_script(options.script);
    if (!script) return script.error();
    stub.script = std::move(*script);
  }
  stub.delay = std::chrono::milliseconds(options.delay_ms);
  if (!options.tls_cert.empty()) {
    auto chain = cqda::read_file(options.tls_cert, kMaxFileBytes);
    if (!chain) return chain.error();
    auto key = cqda::read_file(options.tls_key, kMaxFileBytes);
    if (!key) return key.error();
    auto context = cqda::http::make_tls_context(*chain, *key);
    if (!context) return context.error();
    stub.tls = std::move(*context);
  }
  stub.record.open(options.record, std::ios::app | std::ios::binary);
  if (!stub.record) return cqda::make_error("cannot open the record file " + options.record);
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"llm_stub: a deterministic OpenAI/Ollama chat endpoint for cqda's tests"};
  Options options;
  app.add_option("--listen", options.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->required();
  app.add_option("--port-file", options.port_file, "Where to write the bound port")->required();
  app.add_option("--record", options.record, "File to append one JSON line per request to")
      ->required();
  auto* cert = app.add_option("--tls-cert", options.tls_cert, "Server certificate chain, PEM")
                   ->check(CLI::ExistingFile);
  auto* key = app.add_option("--tls-key", options.tls_key, "Server private key, PEM")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  app.add_option("--script", options.script, "JSON array: how to answer request n")
      ->check(CLI::ExistingFile);
  app.add_option("--delay-ms", options.delay_ms, "Wait before every answer")
      ->check(CLI::Range(0, 600000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "llm_stub: " << e.what() << "\n";
    return 2;
  }

  auto fail = [](const std::string& message) {
    std::cerr << "llm_stub: " << message << "\n";
    return 2;
  };
  Stub stub;  // outlives the io_context, whose connections refer to it
  if (auto status = set_up(options, stub); !status) return fail(status.error().message);
  auto address = cqda::http::parse_listen_address(options.listen);
  if (!address) return fail(address.error().message);
  auto listener = cqda::http::listen_tcp(address->address, address->port);
  if (!listener) return fail(listener.error().message);
  auto port = cqda::http::local_port(listener->get());
  if (!port) return fail(port.error().message);

  net::io_context ioc;
  tcp::acceptor acceptor(ioc);
  beast::error_code ec;
  bool v6 = address->address.find(':') != std::string::npos;
  acceptor.assign(v6 ? tcp::v6() : tcp::v4(), listener->get(), ec);
  if (ec) return fail("listening socket: " + ec.message());
  listener->release();  // the acceptor owns it now
  // Installed before the port is published, so a test that stops the stub as soon as it
  // has read the port always gets exit status 0.
  net::signal_set stop_signals(ioc, SIGINT, SIGTERM);
  stop_signals.async_wait([&ioc](const beast::error_code&, int) { ioc.stop(); });
  if (auto written = cqda::write_file_atomic(options.port_file, std::to_string(*port)); !written)
    return fail(written.error().message);

  int exit_code = 0;
  net::co_spawn(ioc, accept_connections(acceptor, stub), [&](std::exception_ptr failure) {
    if (!report_failure("accept", failure)) return;
    exit_code = 1;
    ioc.stop();
  });
  ioc.run();
  return exit_code;
}
