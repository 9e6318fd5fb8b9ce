// `cqda run`: the batch pipeline ingest -> segment -> anonymize -> code -> verify quotes ->
// validate -> export -> seal the run log (DESIGN.md §6). Single-process for now; each stage
// is a pure component so the reader's part can move into its own sandboxed process.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

namespace cqda::pipeline {

struct RunOptions {
  std::filesystem::path input;
  std::filesystem::path output;
  std::filesystem::path cache;
  std::filesystem::path policy;
  std::filesystem::path codebook;
  std::optional<std::filesystem::path> roster;
  std::optional<std::filesystem::path> cases;
  std::optional<std::filesystem::path> signing_key;  // else /run/secrets/signing_key if present
  std::optional<std::filesystem::path> vault_key;    // else /run/secrets/vault_key, else <cache>/keys/vault.key
  bool progress = false;                              // draw progress on stderr
};

// Runs the pipeline; prints a summary to `out` and errors to `err`. Returns an ExitCode.
int run(const RunOptions& options, std::FILE* out, std::FILE* err);

std::string tool_version();

}  // namespace cqda::pipeline
