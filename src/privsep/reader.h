// The reader role: the only process that holds the input root. In the child it scans,
// reads, parses, segments and anonymizes; only the form of each document that the policy
// lets reach the requested destination leaves it (anonymized, or raw text tagged kRaw where
// the policy does not anonymize for that destination). Real paths never leave: entries are
// named by their pseudonymized path and the SHA-256 of the real one.
//
// ReaderClient is the supervisor's side. It checks every reply (right type, an outstanding
// request id, the scan entry it asked for, anonymized text where the policy requires it)
// and kills the reader on any violation: fail closed.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "anonymize/anonymizer.h"
#include "anonymize/roster.h"
#include "anonymize/vault.h"
#include "common/result.h"
#include "ingest/input_root.h"
#include "policy/policy.h"
#include "privsep/child.h"
#include "privsep/protocol.h"

namespace cqda::privsep {

// Everything the reader inherits at fork. The pointers stay owned by the supervisor; the
// child works on its copy of the memory.
struct ReaderSetup {
  const policy::Policy* policy = nullptr;
  const anonymize::Roster* roster = nullptr;
  anonymize::Anonymizer* anonymizer = nullptr;  // on `vault`
  const anonymize::Vault* vault = nullptr;
  const ingest::InputRoot* root = nullptr;
  unsigned threads = 1;  // worker threads (counted before lockdown: the count reads /sys)
  int landlock_abi_limit = -1;  // tests stand in for older kernels; -1: what the kernel has
  // Runs in the child before lockdown: wipe secrets the reader must not hold (the signing key).
  std::function<void()> drop_secrets;
};

class ReaderClient {
 public:
  static Result<std::unique_ptr<ReaderClient>> start(const ReaderSetup& setup);
  // Takes over a started child that speaks the reader's protocol (tests use it to stand a
  // misbehaving reader in front of the real checks); waits for its `ready`.
  static Result<std::unique_ptr<ReaderClient>> adopt(std::unique_ptr<ChildProcess> child, const policy::Policy& policy);

  const std::string& lockdown_report() const { return report_; }
  pid_t pid() const { return child_->pid(); }
  ChildProcess& process() { return *child_; }

  Result<ScanReply> scan();

  // Reads the first `count` accepted entries of the scan, keeping up to `window` requests
  // in flight, and hands each reply to `consume` in scan order. Stops at the first error
  // (the channel's, or one `consume` returns).
  Status read_documents(std::size_t count, policy::Destination destination, std::size_t window,
                        const std::function<Status(std::size_t, DocumentReply&&)>& consume);

  // A path named by a user: every escape is a kDenied reply, not an error.
  Result<DocumentReply> read_path(const std::string& path, policy::Destination destination);

  // The reader's pseudonym vault, sealed under the vault key (it cannot write files).
  Result<std::string> export_vault();

  // Closes the channel; ok when the reader then exits normally.
  Status finish();

 private:
  ReaderClient(std::unique_ptr<ChildProcess> child, const policy::Policy& policy, std::string report)
      : child_(std::move(child)), policy_(&policy), report_(std::move(report)) {}
  Error fail(const std::string& what);  // kills the reader, returns the error
  Status check_text_kind(const DocumentReply& reply, policy::Destination destination);
  Result<ipc::Message> receive(MessageType expected);

  std::unique_ptr<ChildProcess> child_;
  const policy::Policy* policy_;
  std::string report_;
  ScanReply scan_;
  std::uint32_t next_id_ = 1;
};

// The reader's process body (exposed for the sandbox tests): lockdown, `ready`, then the
// request loop. Returns the child's exit status.
int reader_main(const ReaderSetup& setup, UniqueFd channel_fd);

}  // namespace cqda::privsep
