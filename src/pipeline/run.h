// `cqda run`: the batch pipeline ingest -> segment -> anonymize -> code -> verify quotes ->
// validate -> export -> seal the run log (DESIGN.md §6). The supervisor (this process) loads
// configuration and keys, then forks the reader, which alone opens the input and hands back
// anonymized documents over IPC (privsep/reader.h); coding, the run log and exports stay here.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "llm/settings.h"

namespace cqda::pipeline {

// What every command on a project needs: where the data, outputs and keys are.
struct ProjectOptions {
  std::filesystem::path input;
  std::filesystem::path output;
  std::filesystem::path cache;
  std::filesystem::path policy;
  std::filesystem::path codebook;
  std::optional<std::filesystem::path> roster;
  std::optional<std::filesystem::path> cases;
  std::optional<std::filesystem::path> signing_key;  // else /run/secrets/signing_key if present
  std::optional<std::filesystem::path> vault_key;    // else /run/secrets/vault_key, else <cache>/keys/vault.key
};

struct RunOptions : ProjectOptions {
  std::vector<std::string> files;  // only these files, relative to the input; empty = scan all
  bool progress = false;           // draw progress on stderr
  llm::Settings llm;               // the coder: offline rules unless a backend is configured
  bool llm_backend_from_flag = false;  // --llm-backend given (else LLM_BACKEND may choose)
  bool dry_run = false;            // write the requests a model would get to llm-preview/, send nothing
  // The caller exits right after run(): the corpus is not freed (see run.cc), which saves a
  // third of a second on a large corpus. Not for callers that go on.
  bool leave_memory_to_exit = false;
};

// Runs the pipeline; prints a summary to `out` and errors to `err`. Returns an ExitCode.
int run(const RunOptions& options, std::FILE* out, std::FILE* err);

std::string tool_version();

// Whether this process was started asking glibc's malloc for transparent huge pages
// (GLIBC_TUNABLES holds glibc.malloc.hugetlb=1; `cqda run` re-executes itself for it, see
// cli.cc). The run log's timing record says so. What the kernel then gives is its own affair.
bool malloc_huge_pages();

}  // namespace cqda::pipeline
