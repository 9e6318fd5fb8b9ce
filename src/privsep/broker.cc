#include "privsep/broker.h"

#include <unistd.h>

#include "privsep/protocol.h"
#include "sandbox/lockdown.h"

namespace cqda::privsep {

int broker_main(const BrokerSetup& setup, UniqueFd channel_fd) {
  if (setup.drop_secrets) setup.drop_secrets();
  sandbox::LockdownSpec spec;
  spec.role = sandbox::Role::kBroker;
  spec.channel_fd = channel_fd.get();
  spec.keep_fds = setup.client_fds;
  spec.keep_fds.push_back(STDERR_FILENO);
  spec.read_beneath_fd = -1;
  spec.threads = true;
  spec.max_open_files = 256;
  auto report = sandbox::lock_down(spec);
  if (!report) {
    std::fprintf(stderr, "cqda broker: lockdown failed: %s\n", report.error().message.c_str());
    return kChildLockdownFailed;
  }
  ipc::Channel channel(std::move(channel_fd), supervisor_to_broker(), "supervisor");
  if (!send_ready(channel, report->summary())) return kChildProtocolError;
  for (;;) {
    auto message = channel.receive();
    if (!message) return channel.closed() ? 0 : kChildProtocolError;
    if (message->type != wire(MessageType::kPing)) return kChildProtocolError;
    if (!channel.send(wire(MessageType::kPong), message->request_id, "")) return kChildProtocolError;
  }
}

Result<std::unique_ptr<BrokerClient>> BrokerClient::start(const BrokerSetup& setup) {
  auto child = ChildProcess::spawn("broker", broker_to_supervisor(),
                                   [&setup](UniqueFd fd) { return broker_main(setup, std::move(fd)); });
  if (!child) return child.error();
  return adopt(std::move(child).value());
}

Result<std::unique_ptr<BrokerClient>> BrokerClient::adopt(std::unique_ptr<ChildProcess> child) {
  auto report = await_ready(*child);
  if (!report) return report.error();
  return std::unique_ptr<BrokerClient>(new BrokerClient(std::move(child), std::move(report).value()));
}

Status BrokerClient::ping() {
  const std::uint32_t id = next_id_++;
  if (auto st = child_->channel().send(wire(MessageType::kPing), id, ""); !st) return st;
  auto message = child_->channel().receive(10000);
  if (!message || message->type != wire(MessageType::kPong) || message->request_id != id) {
    child_->kill();
    return make_error("the broker did not answer a ping: " + child_->describe_end());
  }
  return Status::success();
}

Status BrokerClient::finish() { return child_->finish(); }

}  // namespace cqda::privsep
