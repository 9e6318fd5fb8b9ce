// The LLM caller role: it speaks to model endpoints but can open no file, create no socket,
// connect nowhere and resolve no name. For each request it asks the supervisor to connect
// (kConnect with the URL); the supervisor checks the egress allow-list, resolves, refuses
// forbidden addresses, connects and hands over the socket (kConnected, fd attached) or says
// why not (kConnectRefused). It then speaks HTTP/1.1 over that socket — TLS with the chain
// and host name verified against trust anchors loaded before lockdown — sends the request
// bytes it was given and parses the response, bounded in size and time (llm/transport.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "egress/egress.h"
#include "llm/transport.h"
#include "policy/policy.h"
#include "privsep/child.h"
#include "privsep/protocol.h"

namespace cqda::privsep {

// One connection decision, for the run log.
struct EgressDecision {
  std::string url;
  bool allowed = false;
  std::string address;  // connected address, when allowed
  std::string reason;   // when refused
};

class LlmCallerClient {
 public:
  // `egress` must outlive the client. `tls` (may be null: then https fails) is used by the
  // child, which inherits it at fork. `drop_secrets` runs in the child before lockdown.
  static Result<std::unique_ptr<LlmCallerClient>> start(const policy::EgressPolicy& egress,
                                                        egress::Resolver resolver,
                                                        std::shared_ptr<const llm::ClientTls> tls = nullptr,
                                                        const std::function<void()>& drop_secrets = {});

  // Takes over a started child that speaks the caller's protocol (tests).
  static Result<std::unique_ptr<LlmCallerClient>> adopt(std::unique_ptr<ChildProcess> child,
                                                        const policy::EgressPolicy& egress, egress::Resolver resolver);

  const std::string& lockdown_report() const { return report_; }
  pid_t pid() const { return child_->pid(); }
  ChildProcess& process() { return *child_; }
  const std::vector<EgressDecision>& decisions() const { return decisions_; }

  // Sends `request` through the caller; serves its connect requests meanwhile. A refused
  // connection is an ok LlmResponse with ok = false (the caller is fine); a protocol
  // violation is an error and the caller is killed.
  Result<LlmResponse> exchange(const LlmRequest& request);

  Status finish();

 private:
  LlmCallerClient(std::unique_ptr<ChildProcess> child, const policy::EgressPolicy& egress, egress::Resolver resolver,
                  std::string report)
      : child_(std::move(child)), egress_(&egress), resolver_(std::move(resolver)), report_(std::move(report)) {}
  Status serve_connect(const ipc::Message& message);
  Error fail(const std::string& what);

  std::unique_ptr<ChildProcess> child_;
  const policy::EgressPolicy* egress_;
  egress::Resolver resolver_;
  std::string report_;
  std::vector<EgressDecision> decisions_;
  std::uint32_t next_id_ = 1;
};

int llm_caller_main(UniqueFd channel_fd, const llm::ClientTls* tls, const std::function<void()>& drop_secrets);

}  // namespace cqda::privsep
