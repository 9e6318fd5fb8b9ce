#include "pipeline/config.h"

#include <chrono>
#include <ctime>

#include <algorithm>

#include "common/files.h"
#include "common/hash.h"
#include "pipeline/exit_codes.h"

namespace cqda::pipeline {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSecretsSigningKey = "/run/secrets/signing_key";
constexpr const char* kSecretsVaultKey = "/run/secrets/vault_key";

// True when `inner` is `outer` or lies below it (after resolving both).
bool is_within(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  fs::path a = fs::weakly_canonical(inner, ec);
  fs::path b = fs::weakly_canonical(outer, ec);
  auto [mismatch, _] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return mismatch == b.end();
}

}  // namespace

std::optional<FolderError> check_folders(const ProjectOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.input, ec))
    return FolderError{kExitUsage, "the input folder " + o.input.string() + " does not exist or is not a folder"};
  if (is_within(o.output, o.input))
    return FolderError{kExitUsage, "the output folder must not be inside the input folder (nothing is ever written under the input)"};
  if (is_within(o.cache, o.input))
    return FolderError{kExitUsage, "the cache folder must not be inside the input folder (nothing is ever written under the input)"};
  if (auto st = exporter::ensure_writable_dir(o.output, "output"); !st) return FolderError{kExitOutput, st.error().message};
  if (auto st = exporter::ensure_writable_dir(o.cache, "cache"); !st) return FolderError{kExitOutput, st.error().message};
  return std::nullopt;
}

Result<runlog::RunLogWriter> open_run_log(const ProjectOptions& o, const Config& config, const std::string& run_id,
                                          fs::path& log_path) {
  auto path = runlog::make_run_log_dir(o.output, run_id);
  if (!path) return path.error();
  log_path = *path;
  return runlog::RunLogWriter::create(log_path, run_id, config.signing_key ? &*config.signing_key : nullptr);
}

Result<Config> load_config(const ProjectOptions& o) {
  auto policy = policy::load_policy_file(o.policy.string());
  if (!policy) return policy.error();
  auto codebook = codebook::load_codebook_file(o.codebook.string());
  if (!codebook) return codebook.error();
  Config config{std::move(policy).value(), std::move(codebook).value(), {}, "", {}, std::nullopt};
  if (o.roster) {
    auto text = read_file(*o.roster, 16u << 20);
    if (!text) return make_error("cannot read the roster: " + text.error().message);
    auto roster = anonymize::parse_roster_csv(*text);
    if (!roster) return make_error(o.roster->string() + ": " + roster.error().message);
    config.roster = std::move(roster).value();
    config.roster_sha256 = sha256_hex(*text);
  }
  if (o.cases) {
    auto text = read_file(*o.cases, 16u << 20);
    if (!text) return make_error("cannot read the case attributes: " + text.error().message);
    auto cases = exporter::parse_case_attributes(*text);
    if (!cases) return make_error(o.cases->string() + ": " + cases.error().message);
    config.cases = std::move(cases).value();
  }
  std::optional<fs::path> key_path = o.signing_key;
  if (!key_path && secret_present(kSecretsSigningKey)) key_path = kSecretsSigningKey;
  if (config.policy.audit.signing != policy::Signing::kOff && key_path) {
    auto key = runlog::load_signing_key(*key_path);
    if (!key) return make_error("cannot load the signing key: " + key.error().message);
    if (!config.policy.audit.key_id.empty() && key->id() != config.policy.audit.key_id) {
      return make_error("the signing key " + key_path->string() + " has id " + key->id() +
                        ", but the policy's audit.key_id is " + config.policy.audit.key_id);
    }
    config.signing_key = std::move(key).value();
  }
  if (config.policy.audit.signing == policy::Signing::kRequired && !config.signing_key) {
    return make_error("the policy requires signed run logs (audit.signing: required), but no signing key was "
                      "given: pass --signing-key FILE (make one with `cqda keygen --out DIR`) or mount the "
                      "secret signing_key");
  }
  return config;
}

Result<anonymize::VaultKey> vault_key_for(const ProjectOptions& o) {
  std::error_code ec;
  if (o.vault_key) return anonymize::load_or_create_vault_key(*o.vault_key);
  if (secret_present(kSecretsVaultKey)) return anonymize::load_or_create_vault_key(kSecretsVaultKey);
  fs::path keys = o.cache / "keys";
  fs::create_directories(keys, ec);
  if (ec) return make_error("cannot create " + keys.string() + ": " + ec.message());
  fs::permissions(keys, fs::perms::owner_all, fs::perm_options::replace, ec);
  return anonymize::load_or_create_vault_key(keys / "vault.key");
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace cqda::pipeline
