#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <malloc.h>
#include <signal.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "codebook/codebook.h"
#include "common/files.h"
#include "http/certs.h"
#include "http/listen.h"
#include "http/probe.h"
#include "server/contract.h"
#include "pipeline/exit_codes.h"
#include "pipeline/run.h"
#include "pipeline/serve.h"
#include "sandbox/landlock.h"
#include "sandbox/seccomp_policy.h"
#include "policy/policy.h"
#include "runlog/keys.h"
#include "runlog/verifier.h"

namespace cqda::cli {
namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0   success\n"
    "  1   verify: the run log is not intact (the first bad record is named); healthcheck: the server did not\n"
    "      answer as expected (the reason is printed)\n"
    "  2   usage error, or an invalid policy, codebook, roster or case file (every violation is listed)\n"
    "  3   run completed, but some input files could not be processed (listed in the summary)\n"
    "  4   outputs could not be written or failed validation (nothing partial was written)\n"
    "  5   run: coding with the model stopped early (token budget, endpoint failures, credentials); the outputs\n"
    "      hold the codings made so far and the report says why; run again to resume\n"
    "  70  internal error, or a sandboxed process died (the cause is printed and in the run log)\n";

struct HealthcheckFlags {
  std::string connect = "127.0.0.1:8765", tls_cert, tls_dir;
  bool plain_http = false;
  int timeout_ms = 5000;
};

// A run touches hundreds of megabytes of fresh memory, and on a virtual machine every 4 KiB
// page fault is expensive: with transparent huge pages one fault maps 2 MiB. glibc's malloc
// asks for them (madvise) only when its tunable is set at start-up, so `cqda run` executes
// itself once more with it set, before it has opened anything. The reader process is forked
// from that image and inherits it. Nothing changes when the kernel offers no huge pages, the
// caller already chose a value, the process runs in secure mode (set-id or file
// capabilities: glibc drops tunables there), it was started through the dynamic loader
// (/proc/self/exe would be the loader), or the re-execution fails. CQDA_REEXEC marks the
// second image, so there is never a third.
void reexec_with_huge_pages(char** argv) {
  constexpr const char* kTunable = "glibc.malloc.hugetlb";
  constexpr const char* kMarker = "CQDA_REEXEC";
  if (std::getenv(kMarker)) {
    ::unsetenv(kMarker);
    return;
  }
  if (::getauxval(AT_SECURE) != 0 || ::getauxval(AT_BASE) == 0) return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  const std::string before = current ? current : "";
  if (before.find(kTunable) != std::string::npos) return;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  if (!std::getline(thp, modes) || modes.find("[never]") != std::string::npos) return;
  const std::string value = before.empty() ? std::string(kTunable) + "=1" : before + ":" + kTunable + "=1";
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0 || ::setenv(kMarker, "1", 1) != 0) return;
  std::fflush(nullptr);
  ::execv("/proc/self/exe", argv);
  // Still here: go on with the allocator as it is, and leave the environment as it was.
  ::unsetenv(kMarker);
  if (current) ::setenv("GLIBC_TUNABLES", before.c_str(), 1);
  else ::unsetenv("GLIBC_TUNABLES");
}

// A run allocates and frees buffers of hundreds of kilobytes to tens of megabytes (documents
// from the reader, rendered exports). By default glibc maps each of those afresh and unmaps it
// when freed, and trims the heap's top, so the next one faults in new, zeroed pages again: on
// a virtual machine that was about a tenth of a run's time. Kept in the heap instead, freed
// memory is reused as it is. The process exits when the run ends, so nothing is held longer.
void keep_freed_memory() {
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest; bigger blocks are still mapped
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  ::mallopt(M_TOP_PAD, 64 << 20);
}

// A healthy server refuses an unauthenticated GET /mcp with 401 (see http/probe.h).
int healthcheck(const HealthcheckFlags& flags) {
  auto address = http::parse_listen_address(flags.connect);
  if (!address) {
    std::fprintf(stderr, "cqda healthcheck: --connect %s: %s\n", flags.connect.c_str(), address.error().message.c_str());
    return kExitUsage;
  }
  http::ProbeOptions probe;
  probe.address = *address;
  probe.tls = !flags.plain_http;
  probe.timeout = std::chrono::milliseconds(flags.timeout_ms);
  std::string pin = flags.tls_cert;
  if (pin.empty() && secret_present("/run/secrets/tls_cert")) pin = "/run/secrets/tls_cert";
  if (pin.empty() && !flags.tls_dir.empty() && secret_present(std::filesystem::path(flags.tls_dir) / "server.crt"))
    pin = (std::filesystem::path(flags.tls_dir) / "server.crt").string();
  if (probe.tls && !pin.empty()) {
    auto pem = read_file(pin, 1u << 20);
    if (!pem) {
      std::fprintf(stderr, "cqda healthcheck: %s\n", pem.error().message.c_str());
      return kExitUsage;
    }
    probe.pinned_certificate_pem = std::move(pem).value();
  }
  ::signal(SIGPIPE, SIG_IGN);  // a server that resets the connection is unhealthy, not fatal
  auto result = http::probe_server(probe);
  if (!result) {
    std::fprintf(stderr, "cqda healthcheck: unhealthy: %s\n", result.error().message.c_str());
    return kExitFailure;
  }
  if (result->status != 401) {
    std::fprintf(stderr, "cqda healthcheck: unhealthy: %s (expected 401, the edge asking for the token)\n",
                 result->summary.c_str());
    return kExitFailure;
  }
  std::printf("cqda healthcheck: healthy: %s%s\n", result->summary.c_str(),
              probe.pinned_certificate_pem ? ", pinned certificate" : "");
  return kExitOk;
}

// The model backend's flags, the same for `run` and `serve` (docs/LLM.md).
struct LlmFlags {
  std::string backend, ca_file, key_header;
  bool no_structured = false;
};

void add_llm_options(CLI::App* cmd, llm::Settings& s, LlmFlags& flags) {
  cmd->add_option("--llm-backend", flags.backend, "Coder: offline (rules; default), openai (and compatible servers) or "
                                                   "ollama; else LLM_BACKEND")
      ->check(CLI::IsMember({"offline", "openai", "ollama"}));
  cmd->add_option("--llm-base-url", s.base_url,
                  "Endpoint base URL, e.g. https://api.openai.com/v1 or http://ollama:11434 (else LLM_BASE_URL); it must "
                  "be on the policy's egress allow-list");
  cmd->add_option("--llm-model", s.model, "Model name (else LLM_MODEL)");
  cmd->add_option("--llm-ca-file", flags.ca_file, "Extra CA certificates (PEM) to trust for the endpoint; SSL_CERT_FILE also works")
      ->check(CLI::ExistingFile);
  cmd->add_option("--llm-in-flight", s.in_flight, "Requests at once (default 4)")->check(CLI::Range(1, 32));
  cmd->add_option("--llm-batch-segments", s.batch_segments, "Segments per request at most (default 20)")->check(CLI::Range(1, 200));
  cmd->add_option("--llm-batch-chars", s.batch_characters, "Characters of segment text per request at most (default 12000)")
      ->check(CLI::Range(200, 1000000));
  cmd->add_option("--llm-timeout", s.timeout_ms, "Milliseconds per request once connected (default 120000)")
      ->check(CLI::Range(100, 3600000));
  cmd->add_option("--llm-max-attempts", s.max_attempts,
                  "Attempts per request on 429, 5xx, timeouts and dropped connections (default 5)")
      ->check(CLI::Range(1, 20));
  cmd->add_option("--llm-backoff", s.backoff_ms, "First retry delay in ms, doubled each time, with jitter (default 1000)")
      ->check(CLI::Range(1, 600000));
  cmd->add_option("--llm-temperature", s.temperature, "Sampling temperature (default 0)")->check(CLI::Range(0.0, 2.0));
  cmd->add_option("--llm-api-version", s.api_version,
                  "Azure OpenAI: the api-version query parameter, e.g. 2024-10-21 (else LLM_API_VERSION)");
  cmd->add_option("--llm-api-key-header", flags.key_header,
                  "How the API key is sent: bearer (Authorization: Bearer) or api-key (Azure); default api-key for "
                  "*.azure.com hosts, else bearer (else LLM_API_KEY_HEADER)")
      ->check(CLI::IsMember({"bearer", "api-key"}));
  cmd->add_flag("--llm-no-structured-outputs", flags.no_structured,
                "Do not ask for a JSON Schema response format (for endpoints that reject it); answers are still validated");
}

// After parsing: true when --llm-backend was given.
bool apply_llm_flags(const LlmFlags& flags, llm::Settings& s) {
  if (!flags.ca_file.empty()) s.ca_file = flags.ca_file;
  if (!flags.key_header.empty()) s.key_header = llm::key_header_from_name(flags.key_header);
  s.structured_outputs = !flags.no_structured;
  if (flags.backend.empty()) return false;
  s.backend = *llm::backend_from_name(flags.backend);
  return true;
}

int policy_check(const std::string& file) {
  auto policy = policy::load_policy_file(file);
  if (!policy) {
    std::fprintf(stderr, "%s", policy.error().message.c_str());
    return kExitUsage;
  }
  std::printf("%s\n", policy->effective.dump(2).c_str());
  std::fprintf(stderr, "%s: valid (sha256 %s)\n", file.c_str(), policy->sha256.c_str());
  return kExitOk;
}

int codebook_check(const std::string& file) {
  auto book = codebook::load_codebook_file(file);
  if (!book) {
    std::fprintf(stderr, "%s", book.error().message.c_str());
    return kExitUsage;
  }
  std::size_t keywords = 0, patterns = 0, retired = 0;
  for (const auto& c : book->codes) {
    keywords += c.keywords.size();
    patterns += c.patterns.size();
    retired += c.retired;
  }
  std::printf("%s: valid codebook \"%s\" version %d: %zu categories, %zu codes (%zu retired), %zu keywords, %zu patterns\n",
              file.c_str(), book->name.c_str(), book->version, book->categories.size(), book->codes.size(), retired,
              keywords, patterns);
  for (const auto& c : book->codes)
    std::printf("  %s%s  %s%s\n", std::string(static_cast<std::size_t>(c.depth) * 2, ' ').c_str(), c.id.c_str(),
                book->path_of(c).c_str(), c.retired ? " (retired)" : "");
  return kExitOk;
}

int keygen(const std::string& dir) {
  if (auto st = runlog::write_keypair(dir); !st) {
    std::fprintf(stderr, "cqda keygen: %s\n", st.error().message.c_str());
    return kExitFailure;
  }
  auto pub = runlog::load_public_key(std::filesystem::path(dir) / runlog::kPublicKeyFileName);
  std::printf("wrote %s/%s (secret, mode 0600) and %s/%s (public)%s%s\n", dir.c_str(),
              std::string(runlog::kSecretKeyFileName).c_str(), dir.c_str(),
              std::string(runlog::kPublicKeyFileName).c_str(), pub ? "; key id " : "",
              pub ? runlog::key_id(*pub).c_str() : "");
  std::printf("give the public key to auditors: cqda verify LOG --public-key %s/%s\n", dir.c_str(),
              std::string(runlog::kPublicKeyFileName).c_str());
  return kExitOk;
}

int verify(const std::string& log, const std::vector<std::string>& key_files, bool allow_unsigned) {
  std::vector<runlog::PublicKey> keys;
  for (const auto& f : key_files) {
    auto key = runlog::load_public_key(f);
    if (!key) {
      std::fprintf(stderr, "cqda verify: %s\n", key.error().message.c_str());
      return kExitUsage;
    }
    keys.push_back(*key);
  }
  if (keys.empty() && !allow_unsigned) {
    std::fprintf(stderr, "cqda verify: give the signer's public key with --public-key FILE "
                         "(or --allow-unsigned to check only the hash chain)\n");
    return kExitUsage;
  }
  runlog::VerifyOptions options;
  options.require_signatures = !allow_unsigned;
  auto report = runlog::verify_log_file(log, keys, options);
  if (!report) {
    std::fprintf(stderr, "cqda verify: %s\n", report.error().message.c_str());
    return kExitUsage;
  }
  if (!report->ok) {
    std::printf("%s: NOT intact: %s\n", log.c_str(), report->reason.c_str());
    return kExitFailure;
  }
  std::printf("%s: intact: run %s, %zu records, %s\n", log.c_str(), report->run_id.c_str(), report->records,
              report->signed_log ? ("signed by key " + report->key_id).c_str() : "unsigned (hash chain only)");
  return kExitOk;
}

int certs(const std::string& dir, bool force) {
  auto files = http::write_certificates(dir, force ? http::Overwrite::kReplace : http::Overwrite::kRefuse);
  if (!files) {
    std::fprintf(stderr, "cqda certs: %s\n", files.error().message.c_str());
    return kExitUsage;
  }
  std::printf("Wrote %s, %s and %s (0600).\n", files->ca_certificate.c_str(), files->server_chain.c_str(),
              files->server_key.c_str());
  std::printf("The CA's private key was discarded: it cannot sign anything else.\n");
  std::printf("CA fingerprint (SHA-256): %s\n\n", files->ca_fingerprint_sha256.c_str());
  std::printf("Serve with:  cqda serve ... --tls-cert %s --tls-key %s\n\n", files->server_chain.c_str(),
              files->server_key.c_str());
  std::printf("Trust the CA in your client:\n");
  std::printf("  Node-based clients (Claude Desktop, Cursor, VS Code, MCP Inspector):  NODE_EXTRA_CA_CERTS=%s\n",
              files->ca_certificate.c_str());
  std::printf("  Debian/Ubuntu:  sudo cp %s /usr/local/share/ca-certificates/cqda-local.crt && sudo update-ca-certificates\n",
              files->ca_certificate.c_str());
  std::printf("  macOS:  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s\n",
              files->ca_certificate.c_str());
  std::printf("  Windows:  certutil -addstore -f Root %s\n", files->ca_certificate.c_str());
  return kExitOk;
}

int sandbox_describe() {
  const int abi = sandbox::landlock_abi();
  std::printf("Landlock ABI of this kernel: %d%s\n", abi, abi == 0 ? " (none: file system limits rest on seccomp and openat2)" : "");
  if (sandbox::seccomp_relaxed()) std::printf("WARNING: this build relaxes the seccomp filters for sanitizers\n");
  for (auto role : {sandbox::Role::kReader, sandbox::Role::kLlmCaller, sandbox::Role::kBroker}) {
    std::printf("\n== %s\n%s", std::string(sandbox::role_name(role)).c_str(), sandbox::describe_seccomp(role).c_str());
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cqda " + pipeline::tool_version() +
               ": qualitative data analysis with anonymization, offline or LLM coding, and signed run logs"};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  app.set_version_flag("--version", pipeline::tool_version());

  pipeline::RunOptions run_options;
  std::string roster, cases, signing_key, vault_key;
  bool no_progress = false;
  auto* run = app.add_subcommand("run", "Anonymize, segment and code a corpus, write the reports and a signed run log");
  run->add_option("--input", run_options.input, "Folder of raw data (read-only; never written)")->required();
  run->add_option("--output", run_options.output, "Folder for reports, exports and run-logs/")->required();
  run->add_option("--cache", run_options.cache, "Folder for the pseudonym vault and keys")->required();
  run->add_option("--policy", run_options.policy, "Policy file (see docs/POLICY.md)")->required()->check(CLI::ExistingFile);
  run->add_option("--codebook", run_options.codebook, "Codebook file (see docs/OUTPUTS.md)")->required()->check(CLI::ExistingFile);
  run->add_option("--roster", roster, "CSV of known people, places and organisations: name,aliases,type")->check(CLI::ExistingFile);
  run->add_option("--cases", cases, "CSV of case attributes with a `document` column")->check(CLI::ExistingFile);
  run->add_option("--signing-key", signing_key, "Ed25519 secret key file for the run log (default: /run/secrets/signing_key if present)");
  run->add_option("--vault-key", vault_key, "Key file that encrypts the pseudonym vault (default: /run/secrets/vault_key, else CACHE/keys/vault.key)");
  run->add_option("--file", run_options.files,
                  "Process only this file, relative to the input folder (repeatable); paths that escape the folder are refused");
  run->add_flag("--no-progress", no_progress, "Do not draw progress on the terminal");
  LlmFlags run_llm;
  add_llm_options(run, run_options.llm, run_llm);
  run->add_flag("--dry-run", run_options.dry_run,
                "Write the exact requests the model would get to OUTPUT/llm-preview/<run>/ and send nothing");

  pipeline::ServeOptions serve_options;
  std::string serve_roster, serve_signing_key, serve_vault_key, serve_tls_cert, serve_tls_key, serve_token_file, serve_tls_dir;
  auto* serve_cmd = app.add_subcommand("serve", "Serve the project to MCP clients over HTTPS (default) or stdio");
  serve_cmd->add_option("--input", serve_options.input, "Folder of raw data (read-only; never written)")->required();
  serve_cmd->add_option("--output", serve_options.output, "Folder for run-logs/ and project state")->required();
  serve_cmd->add_option("--cache", serve_options.cache, "Folder for the pseudonym vault and keys")->required();
  serve_cmd->add_option("--policy", serve_options.policy, "Policy file (see docs/POLICY.md)")->required()->check(CLI::ExistingFile);
  serve_cmd->add_option("--codebook", serve_options.codebook, "Codebook file")->required()->check(CLI::ExistingFile);
  serve_cmd->add_option("--roster", serve_roster, "CSV of known people, places and organisations")->check(CLI::ExistingFile);
  serve_cmd->add_option("--signing-key", serve_signing_key, "Ed25519 secret key file for the session's run log");
  serve_cmd->add_option("--vault-key", serve_vault_key, "Key file that encrypts the pseudonym vault");
  auto* stdio_flag = serve_cmd->add_flag("--stdio", serve_options.stdio, "Speak MCP on stdin/stdout (newline-delimited JSON-RPC)");
  serve_cmd->add_option("--listen", serve_options.listen, "ADDR:PORT for Streamable HTTP (default 127.0.0.1:8765)")
      ->excludes(stdio_flag);
  serve_cmd->add_option("--tls-cert", serve_tls_cert, "Server certificate chain, PEM (default: /run/secrets/tls_cert; see cqda certs)")
      ->excludes(stdio_flag);
  serve_cmd->add_option("--tls-key", serve_tls_key, "Server private key, PEM (default: /run/secrets/tls_key)")->excludes(stdio_flag);
  serve_cmd->add_option("--tls-dir", serve_tls_dir,
                        "Without --tls-cert/--tls-key or their secrets: make a local CA and server certificate in this "
                        "folder on first start and use them (clients trust DIR/ca.crt)")
      ->excludes(stdio_flag);
  serve_cmd->add_flag("--plain-http", serve_options.plain_http, "Serve HTTP without TLS (only on a loopback address)")
      ->excludes(stdio_flag);
  serve_cmd->add_option("--token-file", serve_token_file,
                        "File holding the bearer token clients must send (default: /run/secrets/mcp_token, else one is "
                        "generated and printed once)")
      ->excludes(stdio_flag);
  serve_cmd->add_option("--rate-limit", serve_options.rate_limit,
                        "Requests per second one HTTP session may make on average, twice that at once (default 50; 429 beyond)")
      ->check(CLI::Range(1.0, 1000000.0))
      ->excludes(stdio_flag);
  serve_cmd->add_option("--allowed-host", serve_options.allowed_hosts,
                        "Another name clients use for this server in Host and Origin (repeatable)")
      ->excludes(stdio_flag);
  LlmFlags serve_llm;
  add_llm_options(serve_cmd, serve_options.llm, serve_llm);

  std::string certs_dir;
  bool certs_force = false;
  auto* certs_cmd = app.add_subcommand("certs", "Make a local CA and a localhost server certificate for cqda serve");
  certs_cmd->add_option("--out", certs_dir, "Folder for ca.crt, server.crt and server.key (0600)")->required();
  certs_cmd->add_flag("--force", certs_force, "Replace existing files");

  std::string keygen_dir;
  HealthcheckFlags health;
  auto* health_cmd = app.add_subcommand(
      "healthcheck", "Exit 0 when the cqda serve HTTPS endpoint answers at its edge (for container healthchecks; no shell needed)");
  health_cmd->add_option("--connect", health.connect, "ADDR:PORT of the server (default 127.0.0.1:8765)");
  health_cmd->add_option("--tls-cert", health.tls_cert,
                         "The server's certificate, which it must present (default: /run/secrets/tls_cert, else "
                         "--tls-dir's server.crt, else any)");
  health_cmd->add_option("--tls-dir", health.tls_dir, "The folder given to cqda serve --tls-dir");
  health_cmd->add_flag("--plain-http", health.plain_http, "The server speaks plain HTTP (loopback only)");
  health_cmd->add_option("--timeout", health.timeout_ms, "Milliseconds for each step (default 5000)")
      ->check(CLI::Range(100, 600000));

  auto* keygen_cmd = app.add_subcommand("keygen", "Make an Ed25519 key pair for signing run logs");
  keygen_cmd->add_option("--out", keygen_dir, "Folder for signing.key (0600) and signing.pub")->required();

  std::string verify_log;
  std::vector<std::string> verify_keys;
  bool allow_unsigned = false;
  auto* verify_cmd = app.add_subcommand("verify", "Verify a run log's hash chain, signatures and seal");
  verify_cmd->add_option("log", verify_log, "run-logs/<run-id>.jsonl")->required();
  verify_cmd->add_option("--public-key", verify_keys, "Trusted public key file (repeat for rotated keys)");
  verify_cmd->add_flag("--allow-unsigned", allow_unsigned, "Accept an unsigned log (checks only the hash chain and seal)");

  std::string policy_file, codebook_file;
  auto* policy_cmd = app.add_subcommand("policy", "Policy tools");
  policy_cmd->require_subcommand(1);
  auto* policy_check_cmd = policy_cmd->add_subcommand("check", "Validate a policy and print the effective policy, or every violation");
  policy_check_cmd->add_option("file", policy_file, "Policy file")->required();
  auto* codebook_cmd = app.add_subcommand("codebook", "Codebook tools");
  codebook_cmd->require_subcommand(1);
  auto* codebook_check_cmd = codebook_cmd->add_subcommand("check", "Validate a codebook and list its codes, or every violation");
  codebook_check_cmd->add_option("file", codebook_file, "Codebook file")->required();

  auto* mcp_cmd = app.add_subcommand("mcp", "MCP server tools");
  mcp_cmd->require_subcommand(1);
  auto* mcp_describe_cmd = mcp_cmd->add_subcommand(
      "describe", "Print the service contract (every tool, resource and prompt with its schemas) as Markdown");

  auto* sandbox_cmd = app.add_subcommand("sandbox", "Show what each sandboxed process may do on this machine");
  sandbox_cmd->require_subcommand(1);
  auto* sandbox_describe_cmd = sandbox_cmd->add_subcommand(
      "describe", "Print each role's seccomp allow-list with reasons, and the Landlock ABI of this kernel");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  try {
    if (*run) {
      if (!roster.empty()) run_options.roster = roster;
      if (!cases.empty()) run_options.cases = cases;
      if (!signing_key.empty()) run_options.signing_key = signing_key;
      if (!vault_key.empty()) run_options.vault_key = vault_key;
      run_options.progress = !no_progress && ::isatty(STDERR_FILENO);
      run_options.llm_backend_from_flag = apply_llm_flags(run_llm, run_options.llm);
      reexec_with_huge_pages(argv);
      keep_freed_memory();
      run_options.leave_memory_to_exit = true;  // main returns right after
      return pipeline::run(run_options, stdout, stderr);
    }
    if (*serve_cmd) {
      if (!serve_roster.empty()) serve_options.roster = serve_roster;
      if (!serve_signing_key.empty()) serve_options.signing_key = serve_signing_key;
      if (!serve_vault_key.empty()) serve_options.vault_key = serve_vault_key;
      if (!serve_tls_cert.empty()) serve_options.tls_cert = serve_tls_cert;
      if (!serve_tls_key.empty()) serve_options.tls_key = serve_tls_key;
      if (!serve_token_file.empty()) serve_options.token_file = serve_token_file;
      if (!serve_tls_dir.empty()) serve_options.tls_dir = serve_tls_dir;
      serve_options.llm_backend_from_flag = apply_llm_flags(serve_llm, serve_options.llm);
      return pipeline::serve(serve_options, stderr);
    }
    if (*certs_cmd) return certs(certs_dir, certs_force);
    if (*keygen_cmd) return keygen(keygen_dir);
    if (*health_cmd) return healthcheck(health);
    if (*verify_cmd) return verify(verify_log, verify_keys, allow_unsigned);
    if (*policy_check_cmd) return policy_check(policy_file);
    if (*codebook_check_cmd) return codebook_check(codebook_file);
    if (*sandbox_describe_cmd) return sandbox_describe();
    if (*mcp_describe_cmd) {
      std::fputs(server::service_contract_markdown().c_str(), stdout);
      return kExitOk;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cqda: internal error: %s\nPlease report it together with the run log.\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}

}  // namespace cqda::cli
