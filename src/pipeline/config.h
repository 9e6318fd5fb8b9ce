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

// True when `inner` is `outer` or lies below it (after resolving both).
bool is_within(const std::filesystem::path& inner, const std::filesystem::path& outer);

}  // namespace cqda::pipeline
