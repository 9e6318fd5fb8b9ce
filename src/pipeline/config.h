// Configuration shared by `cqda run` and `cqda serve`: everything loaded and validated in
// the supervisor before any child is forked or any input is read.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "anonymize/roster.h"
#include "anonymize/vault.h"
#include "codebook/codebook.h"
#include "common/result.h"
#include "export/exporter.h"
#include "pipeline/run.h"
#include "policy/policy.h"
#include "runlog/keys.h"
#include "runlog/writer.h"

namespace cqda::pipeline {

struct Config {
  policy::Policy policy;
  codebook::Codebook codebook;
  anonymize::Roster roster;
  std::string roster_sha256;
  exporter::CaseAttributes cases;
  std::optional<runlog::SigningKey> signing_key;  // else /run/secrets/signing_key, else none
};

Result<Config> load_config(const ProjectOptions& options);

// The key that encrypts the pseudonym vault: --vault-key, else /run/secrets/vault_key, else
// <cache>/keys/vault.key (created on first use).
Result<anonymize::VaultKey> vault_key_for(const ProjectOptions& options);

// The folders of a project, checked before anything is written: the input exists, output
// and cache are outside it and writable. The error carries the exit code to end with.
struct FolderError {
  int exit_code;
  std::string message;
};
std::optional<FolderError> check_folders(const ProjectOptions& options);

// A new run log under <output>/run-logs/, signed when a key is loaded.
Result<runlog::RunLogWriter> open_run_log(const ProjectOptions& options, const Config& config, const std::string& run_id,
                                          std::filesystem::path& log_path);

// Now, as RFC 3339 UTC to the second ("2026-11-24T08:00:00Z").
std::string utc_now();

}  // namespace cqda::pipeline
