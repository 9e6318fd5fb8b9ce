#include "pipeline/serve.h"

#include "pipeline/llm_coding.h"
#include "privsep/llm_caller.h"

#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>

#include <re2/re2.h>

#include "common/files.h"
#include "http/certs.h"
#include "http/listen.h"
#include "http/server.h"
#include "http/tls.h"
#include "common/utf8.h"
#include "pipeline/collect.h"
#include "pipeline/config.h"
#include "pipeline/project_service.h"
#include "pipeline/reader_session.h"
#include "pipeline/exit_codes.h"
#include "privsep/broker.h"
#include "privsep/reader.h"
#include "runlog/record.h"
#include "runlog/writer.h"

namespace cqda::pipeline {
namespace {

// The broker's account of a tool call, checked field by field before it enters the log.
Result<Json> audit_entry(const Json& request) {
  static const RE2 kTool("[a-z][a-z0-9_]{0,63}");
  static const RE2 kHash("[0-9a-f]{64}");
  auto text = [&](const char* key, const RE2& pattern) -> std::optional<std::string> {
    auto it = request.find(key);
    if (it == request.end() || !it->is_string() || !RE2::FullMatch(it->get<std::string>(), pattern)) return std::nullopt;
    return it->get<std::string>();
  };
  auto tool = text("tool", kTool);
  auto arguments = text("arguments_sha256", kHash);
  auto result = text("result_sha256", kHash);
  auto bytes = request.find("bytes");
  auto is_error = request.find("is_error");
  if (!tool || !arguments || !result || bytes == request.end() || !bytes->is_number_unsigned() ||
      is_error == request.end() || !is_error->is_boolean())
    return make_error("malformed audit record");
  return Json{{"tool", *tool}, {"arguments_sha256", *arguments}, {"result_sha256", *result},
              {"bytes", bytes->get<std::uint64_t>()}, {"is_error", is_error->get<bool>()}};
}

// What the HTTP transport needs, prepared by the supervisor before any child exists.
struct HttpPlan {
  http::ListenAddress address;
  http::ServerOptions options;
  bool token_generated = false;
  std::string notice;  // what was made for the operator to know, printed once
};

std::optional<std::filesystem::path> secret_or(const std::optional<std::filesystem::path>& given, const char* name) {
  if (given) return given;
  const std::filesystem::path secret = std::filesystem::path("/run/secrets") / name;
  if (secret_present(secret)) return secret;
  return std::nullopt;
}

Result<HttpPlan> plan_http(const ServeOptions& o) {
  HttpPlan plan;
  auto address = http::parse_listen_address(o.listen);
  if (!address) return make_error("--listen " + o.listen + ": " + address.error().message);
  plan.address = *address;
  plan.options.transport = o.plain_http ? http::Transport::kPlainLoopback : http::Transport::kTls;
  // MCP-Protocol-Version: any supported revision is accepted on a session, as the
  // specification requires and the official conformance suite expects; others get 400.
  plan.options.version_header = http::VersionHeader::kAnySupported;
  if (!o.plain_http) {
    auto cert = secret_or(o.tls_cert, "tls_cert");
    auto key = secret_or(o.tls_key, "tls_key");
    if (!cert && !key && o.tls_dir) {
      std::error_code ec;
      cert = *o.tls_dir / "server.crt";
      key = *o.tls_dir / "server.key";
      const bool have_cert = std::filesystem::exists(*cert, ec);
      const bool have_key = std::filesystem::exists(*key, ec);
      if (have_cert != have_key)
        return make_error("--tls-dir " + o.tls_dir->string() + " holds " +
                          (have_cert ? "server.crt without server.key" : "server.key without server.crt") +
                          " (an interrupted first start?): remove the folder to have a new pair made, or restore the "
                          "missing file");
      if (!have_cert && !have_key) {
        auto made = http::write_certificates(*o.tls_dir);
        if (!made) return make_error("--tls-dir: " + made.error().message);
        plan.notice = "made a local CA and a server certificate for localhost, 127.0.0.1 and ::1 in " +
                      o.tls_dir->string() + "; clients trust " + made->ca_certificate.string() +
                      " (SHA-256 fingerprint " + made->ca_fingerprint_sha256 + ")";
      }
    }
    if (!cert || !key)
      return make_error("no TLS certificate and key: pass --tls-cert and --tls-key (make a local pair with "
                        "`cqda certs --out DIR`), or --tls-dir DIR to have one made, or --plain-http on a loopback address");
    auto chain = read_file(*cert, 1u << 20);
    if (!chain) return make_error("--tls-cert: " + chain.error().message);
    auto pem = read_file(*key, 1u << 20);
    if (!pem) return make_error("--tls-key: " + pem.error().message);
    plan.options.certificate_chain_pem = std::move(chain).value();
    plan.options.private_key_pem = std::move(pem).value();
  }
  if (auto token_file = secret_or(o.token_file, "mcp_token")) {
    auto token = read_file(*token_file, 4096);
    if (!token) return make_error("--token-file: " + token.error().message);
    while (!token->empty() && std::isspace(static_cast<unsigned char>(token->back()))) token->pop_back();
    static const RE2 kToken("[A-Za-z0-9._~+/-]{16,1000}=*");
    if (!RE2::FullMatch(*token, kToken))
      return make_error("the token in " + token_file->string() +
                        " must be 16 or more characters of A-Z a-z 0-9 . _ ~ + / - (a bearer token)");
    plan.options.bearer_token = std::move(token).value();
  } else {
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    char hex[2 * sizeof bytes + 1];
    sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
    plan.options.bearer_token = hex;
    plan.token_generated = true;
  }
  for (const auto& host : o.allowed_hosts) plan.options.allowed_hosts.push_back(host);
  plan.options.limits.requests_per_second = o.rate_limit;
  plan.options.limits.burst = 2 * o.rate_limit;
  return plan;
}

// SIGINT and SIGTERM end `cqda serve` cleanly: the broker is stopped and the log sealed.
std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) { g_stop_requested.store(true); }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

int serve(const ServeOptions& o, std::FILE* err) {
  auto fail = [&](int code, const std::string& message) {
    std::fprintf(err, "cqda serve: %s\n", message.c_str());
    return code;
  };
  // 1. Configuration, keys and the listening socket, before any child exists.
  auto config_result = load_config(o);
  if (!config_result) return fail(kExitUsage, config_result.error().message);
  Config& config = *config_result;
  if (auto folders = check_folders(o)) return fail(folders->exit_code, folders->message);
  if (!config.signing_key)
    std::fprintf(err, "cqda serve: the session's run log will not be signed (no key: --signing-key or the "
                      "signing_key secret; see docs/RUN-LOG.md)\n");
  std::optional<HttpPlan> http_plan;
  UniqueFd listener;
  if (!o.stdio) {
    auto plan = plan_http(o);
    if (!plan) return fail(kExitUsage, plan.error().message);
    http_plan = std::move(plan).value();
    if (auto st = http::init_openssl(); !st) return fail(kExitInternal, st.error().message);
    auto socket = http::listen_tcp(http_plan->address.address, http_plan->address.port);
    if (!socket) return fail(kExitUsage, "--listen " + o.listen + ": " + socket.error().message);
    listener = std::move(socket).value();
    if (o.plain_http) {
      auto loopback = http::is_loopback(listener.get());
      if (!loopback || !*loopback)
        return fail(kExitUsage, "--plain-http serves only on a loopback address (127.0.0.1 or [::1]); use TLS for " + o.listen);
    }
    if (auto port = http::local_port(listener.get())) http_plan->address.port = *port;
  }
  const std::string transport = o.stdio ? "stdio" : o.plain_http ? "http" : "https";
  // auto_code's coder: a model endpoint passes the egress checks that need no document now.
  auto llm_setup = prepare_llm(o.llm, o.llm_backend_from_flag, config.policy);
  if (!llm_setup) return fail(kExitUsage, llm_setup.error().message);
  const llm::Settings& llm_settings = llm_setup->settings;
  const bool use_llm = llm_setup->enabled();

  // 2. The session's run log.
  const std::string run_id = runlog::new_run_id(std::chrono::system_clock::now());
  std::filesystem::path log_path;
  auto log = open_run_log(o, config, run_id, log_path);
  if (!log) return fail(kExitOutput, log.error().message);
  // While the broker is served the log holds its lines (see the serve call below): the
  // records of a data answer and of a tool call wait for their batch, which is written
  // before its answers leave; every other record goes to the file at once, after any held.
  RecordFn record = [&](std::string_view type, const Json& data) {
    if (!log->append(type, data)) return false;
    if (type == "mcp_data" || type == "mcp_tool_call") return true;
    return static_cast<bool>(log->flush());
  };
  auto finish = [&](int code, const std::string& outcome) {
    record("run_end", {{"exit_code", code}, {"outcome", outcome}});
    if (!log->seal()) return code == kExitOk ? static_cast<int>(kExitOutput) : code;
    return code;
  };
  if (!record("run_start", {{"tool", "cqda"}, {"tool_version", tool_version()}, {"command", "serve"},
                            {"transport", transport}, {"backend", llm::backend_name(llm_settings.backend)},
                            {"model", use_llm ? Json(llm_settings.model) : Json(nullptr)},
                            {"endpoint", use_llm ? Json(llm_settings.endpoint_url()) : Json(nullptr)},
                            {"policy_sha256", config.policy.sha256},
                            {"codebook_sha256", config.codebook.sha256}, {"roster_sha256", config.roster_sha256},
                            {"signed", config.signing_key.has_value()}}))
    return fail(kExitOutput, "cannot write the run log");

  // The LLM callers, forked while the supervisor is single-threaded and before the vault is
  // opened (as in cqda run).
  std::vector<std::unique_ptr<privsep::LlmCallerClient>> callers;
  if (use_llm) {
    auto started = start_llm_callers(config, *llm_setup, record);
    if (!started) return finish(fail(kExitInternal, started.error().message), "llm-caller");
    callers = std::move(started).value();
  }

  // 3. The corpus, loaded by the reader with the mcp destination's anonymization.
  auto anonymization = open_anonymization(config, o);
  if (!anonymization) return finish(fail(kExitUsage, anonymization.error().message), "anonymization");
  auto root = ingest::InputRoot::open(o.input.string());
  if (!root) return finish(fail(kExitUsage, root.error().message), "input root");
  const unsigned threads = reader_threads();
  auto reader = start_reader(config, *anonymization, std::move(root).value(), threads);
  if (!reader) return finish(fail(kExitInternal, reader.error().message), "reader");
  auto child_failed = [&](const char* process, const Error& e) {
    record("process_failed", {{"process", process}, {"error", e.message}});
    return finish(fail(kExitInternal, e.message), std::string(process) + " failed");
  };
  if (!record("sandbox", {{"process", "reader"}, {"pid", (*reader)->pid()}, {"lockdown", (*reader)->lockdown_report()}}))
    return finish(kExitOutput, "run log");
  CollectOptions collect;
  collect.destination = policy::Destination::kMcp;
  collect.window = 2 * threads + 2;
  Stages stages;
  auto corpus = collect_documents(**reader, nullptr, collect, record, stages);
  if (!corpus) return child_failed("reader", corpus.error());
  auto reader_vault = take_back_vault(**reader, *anonymization);
  if (!reader_vault) return child_failed("reader", reader_vault.error());
  if (auto st = reader_vault->save(); !st) return finish(fail(kExitOutput, st.error().message), "vault save");
  std::fprintf(err, "cqda serve: %zu documents loaded (%zu skipped, %zu refused)\n", corpus->documents.size(),
               corpus->skipped.size(), corpus->refused.size());

  // 4. The broker speaks MCP on stdin/stdout and asks for data over its channel.
  // The project state: codings, memos and codebook versions that outlive the session.
  auto store = project::Store::open(project_file(o.output), config.codebook);
  if (!store) return finish(fail(kExitOutput, store.error().message), "project state");
  if (!(*store)->last_change().is_null() && !record("project_change", (*store)->last_change()))
    return finish(kExitOutput, "run log");
  ProjectServiceOptions service_options;
  service_options.output = o.output;
  service_options.mcp_anonymized = config.policy.anonymization.apply_to.count(policy::Destination::kMcp) > 0;
  service_options.export_anonymized = config.policy.anonymization.apply_to.count(policy::Destination::kExport) > 0;
  service_options.policy = &config.policy;
  if (config.signing_key) service_options.run_log_key = config.signing_key->public_key();
  service_options.run_id = run_id;
  service_options.tool_version = tool_version();
  // The codebook's text leaves anonymized like the segments (prompts, get_codebook, exports),
  // with the corpus's vault.
  const auto& anon_policy = config.policy.anonymization;
  anonymize::Anonymizer codebook_anonymizer(
      anon_policy, config.roster, anon_policy.names.gazetteer ? anonymize::Gazetteer::bundled() : anonymize::Gazetteer(),
      *reader_vault);
  service_options.codebook_anonymizer = &codebook_anonymizer;
  service_options.vault = &*reader_vault;
  if (use_llm) {
    service_options.llm = &llm_settings;
    service_options.llm_callers = &callers;
    service_options.llm_cache = o.cache / "llm";
    service_options.raw_documents = corpus->raw_documents;
  }
  ProjectService project(std::move(corpus->documents), std::move(store).value(), std::move(service_options), record);
  privsep::BrokerSetup broker_setup;
  broker_setup.drop_secrets = [&config] { config.signing_key.reset(); };
  broker_setup.server_version = tool_version();
  if (o.stdio) {
    broker_setup.client_fds = {STDIN_FILENO, STDOUT_FILENO};
    broker_setup.mcp_stdio = true;
  } else {
    broker_setup.client_fds = {listener.get()};
    broker_setup.http = privsep::BrokerSetup::Http{listener.get(), http_plan->options};
  }
  install_stop_handlers();
  auto broker = privsep::BrokerClient::start(broker_setup);
  if (!broker) return finish(fail(kExitInternal, broker.error().message), "broker");
  listener.reset();  // the broker has its copy
  if (http_plan) {
    // The key stays with the broker, which needs it; the supervisor forgets it.
    sodium_memzero(broker_setup.http->options.private_key_pem.data(), broker_setup.http->options.private_key_pem.size());
    sodium_memzero(http_plan->options.private_key_pem.data(), http_plan->options.private_key_pem.size());
  }
  if (!record("sandbox", {{"process", "broker"}, {"pid", (*broker)->pid()}, {"lockdown", (*broker)->lockdown_report()}}))
    return finish(kExitOutput, "run log");
  if (o.stdio) {
    std::fprintf(err, "cqda serve: serving MCP on stdio\n");
  } else {
    const std::string host = http_plan->address.address.find(':') != std::string::npos
                                 ? "[" + http_plan->address.address + "]"
                                 : http_plan->address.address;
    std::fprintf(err, "cqda serve: serving MCP on %s://%s:%u/mcp\n", o.plain_http ? "http" : "https", host.c_str(),
                 static_cast<unsigned>(http_plan->address.port));
    if (!http_plan->notice.empty()) std::fprintf(err, "cqda serve: %s\n", http_plan->notice.c_str());
    if (http_plan->token_generated)
      std::fprintf(err, "cqda serve: clients must send the header  Authorization: Bearer %s\n"
                        "cqda serve: (generated for this run and shown only here; --token-file keeps one across runs)\n",
                   http_plan->options.bearer_token.c_str());
    std::fflush(err);
  }
  (void)log->hold(true);
  Status served = (*broker)->serve([&](const Json& request) -> Result<std::string> {
    auto op = request.find("op");
    const std::string name = op != request.end() && op->is_string() ? op->get<std::string>() : "";
    auto answer = project.answer_text(request);
    // The log names only operations that exist (the broker's text is not logged as is).
    static const RE2 kKnownOp("[a-z_]{1,32}");
    Json data = {{"op", RE2::FullMatch(name, kKnownOp) && answer ? name : std::string("(refused)")}};
    auto arguments = request.find("arguments");
    const Json& fields = arguments != request.end() && arguments->is_object() ? *arguments : request;
    // The id the request was answered for: "document_id" before "id", as the service reads them.
    if (auto id = fields.find("id"); id != fields.end() && id->is_string() && answer) data["document_id"] = *id;
    if (auto id = fields.find("document_id"); id != fields.end() && id->is_string() && answer) data["document_id"] = *id;
    if (answer) {
      data["bytes"] = answer->text.size();
    } else {
      data["error"] = answer.error().message;
    }
    if (!record("mcp_data", data)) return make_error("the run log could not be written");
    // An answer that completes a tool call (read_document's result) is that call's record too.
    if (answer && answer->tool_call && !record("mcp_tool_call", *answer->tool_call))
      return make_error("the run log could not be written");
    if (!answer) return answer.error();
    return std::move(answer->text);
  }, [&](const Json& request) -> Status {
    auto entry = audit_entry(request);
    if (!entry) return entry.error();
    if (!record("mcp_tool_call", *entry)) return make_error("the run log could not be written");
    return Status::success();
  }, &g_stop_requested, [&] { return log->flush(); });
  if (auto flushed = log->hold(false); !flushed && served) served = flushed;
  if (!served) return child_failed("broker", served.error());
  if (g_stop_requested.load()) return finish(kExitOk, "stopped by a signal");
  if (auto st = (*broker)->finish(); !st) return child_failed("broker", st.error());
  return finish(kExitOk, "client closed the session");
}

}  // namespace cqda::pipeline
