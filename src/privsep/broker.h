// The broker role: the client-facing process (the MCP server joins it later). It has no
// view of the input root or any file, and makes no outbound connection; what it learns of
// the data comes through the supervisor's channel. `client_fds` are the descriptors it
// serves clients on (stdin/stdout for stdio, a listening socket made before lockdown).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "http/server.h"
#include "common/result.h"
#include "privsep/child.h"

namespace cqda::privsep {

struct BrokerSetup {
  std::vector<int> client_fds;
  std::function<void()> drop_secrets;  // runs in the child before lockdown
  // Serve MCP over stdio (newline-delimited JSON-RPC on fds 0 and 1; logs never on stdout),
  // asking the supervisor for data. Off: answer the supervisor's pings (tests).
  bool mcp_stdio = false;
  // Serve MCP over Streamable HTTP on this listening socket (one of client_fds).
  struct Http {
    int listener_fd = -1;
    http::ServerOptions options;
  };
  std::optional<Http> http;
  std::string server_version;
};

// The supervisor's side of data requests: each gets one reply, or the broker is stopped.
// `serve` receives the parsed request and returns the reply object as JSON text (json_text,
// so that the handler can log the size of what it sends without writing it twice), or an
// error text.
using DataHandler = std::function<Result<std::string>(const Json& request)>;
// The supervisor's side of audit records (a tool call the broker answered): each is written
// to the run log or the broker is stopped.
using AuditHandler = std::function<Status(const Json& record)>;

class BrokerClient {
 public:
  static Result<std::unique_ptr<BrokerClient>> start(const BrokerSetup& setup);
  // Takes over a started child that speaks the broker's protocol (tests).
  static Result<std::unique_ptr<BrokerClient>> adopt(std::unique_ptr<ChildProcess> child);
  const std::string& lockdown_report() const { return report_; }
  pid_t pid() const { return child_->pid(); }
  ChildProcess& process() { return *child_; }
  Status ping();
  // Answers the broker's data requests and takes its audit records, in the order sent,
  // until it closes its channel (the client went away),
  // or until `stop` becomes true (the broker is then ended): ok then; an error when the
  // broker broke the protocol (it has been stopped).
  //
  // With `flush`, the messages already queued are taken as one batch: the handlers run for
  // each in order (their run-log records held, not yet written), then `flush` writes the
  // batch's records, and only then do its answers go out. So no answer leaves before its
  // record is on file, and nothing is left unwritten while the supervisor waits for the
  // broker. A failed flush stops the broker with none of the batch's answers sent.
  Status serve(const DataHandler& handler, const AuditHandler& auditor, const std::atomic<bool>* stop = nullptr,
               const std::function<Status()>& flush = {});
  Status finish();

 private:
  void end_broker(const AuditHandler& auditor);
  BrokerClient(std::unique_ptr<ChildProcess> child, std::string report)
      : child_(std::move(child)), report_(std::move(report)) {}
  std::unique_ptr<ChildProcess> child_;
  std::string report_;
  std::uint32_t next_id_ = 1;
};

int broker_main(const BrokerSetup& setup, UniqueFd channel_fd);


}  // namespace cqda::privsep
