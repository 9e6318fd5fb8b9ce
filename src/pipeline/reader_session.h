// What `cqda run` and `cqda serve` both do around the reader process: build the
// anonymization state it inherits, fork it on the input root, and take its pseudonym vault
// back at the end (checked before it is saved).
#pragma once

#include <memory>

#include "anonymize/anonymizer.h"
#include "anonymize/vault.h"
#include "common/result.h"
#include "ingest/input_root.h"
#include "pipeline/config.h"
#include "privsep/reader.h"

namespace cqda::pipeline {

// Built in the supervisor before the fork; the reader works on its copy.
struct Anonymization {
  anonymize::VaultKey key;
  std::unique_ptr<anonymize::Vault> vault;  // held by pointer: the anonymizer refers to it
  std::unique_ptr<anonymize::Anonymizer> anonymizer;
};

// The vault key and vault from the cache (or secrets), and the anonymizer the policy
// describes. Errors are configuration errors (a bad key, a custom pattern that does not
// compile: fail closed).
Result<Anonymization> open_anonymization(const Config& config, const ProjectOptions& options);

// Worker threads for the reader: one per core, 1 to 8 (counted here, before lockdown).
unsigned reader_threads();

// Forks the reader on `root` (the supervisor keeps no handle on the input afterwards). The
// child wipes the signing key before its lockdown.
Result<std::unique_ptr<privsep::ReaderClient>> start_reader(Config& config, Anonymization& anonymization,
                                                             ingest::InputRoot root, unsigned threads);

// The reader's vault, sealed; it is accepted only when it extends ours (same pseudonym key,
// every earlier mapping unchanged), and only after the reader exited cleanly. Errors mean the
// reader misbehaved; the caller saves the result.
Result<anonymize::Vault> take_back_vault(privsep::ReaderClient& reader, const Anonymization& anonymization);

}  // namespace cqda::pipeline
