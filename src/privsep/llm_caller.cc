#include "privsep/llm_caller.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "llm/transport.h"
#include "sandbox/lockdown.h"

namespace cqda::privsep {
namespace {

constexpr int kConnectTimeoutMs = 10000;

class LlmCallerService {
 public:
  LlmCallerService(ipc::Channel& channel, const llm::ClientTls* tls) : channel_(channel), tls_(tls) {}

  int run() {
    for (;;) {
      auto message = channel_.receive();
      if (!message) return channel_.closed() ? 0 : kChildProtocolError;
      switch (static_cast<MessageType>(message->type)) {
        case MessageType::kPing:
          if (!channel_.send(wire(MessageType::kPong), message->request_id, "")) return kChildProtocolError;
          break;
        case MessageType::kLlmRequest: {
          auto request = decode_llm_request(message->payload);
          if (!request) return kChildProtocolError;
          auto response = call(*request);
          if (!response) return kChildProtocolError;
          if (!channel_.send(wire(MessageType::kLlmResponse), message->request_id, encode_llm_response(*response)))
            return kChildProtocolError;
          break;
        }
        default:
          return kChildProtocolError;  // a connection nobody asked for, or a type it does not serve
      }
    }
  }

 private:
  // Err only on a protocol violation; a refused or failed connection is a response.
  Result<LlmResponse> call(const LlmRequest& request) {
    const std::uint32_t id = next_id_++;
    if (!channel_.send(wire(MessageType::kConnect), id, request.url)) return make_error("channel");
    auto answer = channel_.receive();
    if (!answer || answer->request_id != id) return make_error("protocol");
    LlmResponse response;
    if (answer->type == wire(MessageType::kConnectRefused)) {
      response.error = answer->payload;
      response.connection_refused = true;
      return response;
    }
    if (answer->type != wire(MessageType::kConnected) || !answer->fd.valid()) return make_error("protocol");
    // The URL was checked by the supervisor, which connected to it; here it only says how
    // to speak (TLS or not) and which name the certificate must carry.
    auto url = egress::parse_url(request.url);
    if (!url) {
      response.error = url.error().message;
      return response;
    }
    llm::Exchange exchange;
    exchange.host = url->host;
    exchange.tls = url->scheme == "https";
    exchange.request = request.request;
    exchange.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(request.timeout_ms);
    exchange.max_body_bytes = request.max_response_bytes;
    llm::ExchangeStats stats;
    auto reply = llm::exchange_over(answer->fd.get(), tls_, exchange, stats);
    response.bytes_sent = stats.bytes_sent;
    response.certificate_refused = stats.certificate_refused;
    if (!reply) {
      response.error = reply.error().message;
      return response;
    }
    response.ok = true;
    response.status = reply->status;
    response.retry_after = std::move(reply->retry_after);
    response.location = std::move(reply->location);
    response.response = std::move(reply->body);
    return response;
  }

  ipc::Channel& channel_;
  const llm::ClientTls* tls_;
  std::uint32_t next_id_ = 1;
};

}  // namespace

int llm_caller_main(UniqueFd channel_fd, const llm::ClientTls* tls, const std::function<void()>& drop_secrets) {
  if (drop_secrets) drop_secrets();
  // A peer that closes while a request is written gives EPIPE, not a fatal SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  sandbox::LockdownSpec spec;
  spec.role = sandbox::Role::kLlmCaller;
  spec.channel_fd = channel_fd.get();
  spec.keep_fds = {STDERR_FILENO};
  spec.read_beneath_fd = -1;
  spec.threads = false;
  spec.max_open_files = 32;
  auto locked = lock_down_and_report(spec, std::move(channel_fd), supervisor_to_llm_caller());
  if (!locked.channel) return locked.exit_status;
  return LlmCallerService(*locked.channel, tls).run();
}

Result<std::unique_ptr<LlmCallerClient>> LlmCallerClient::start(const policy::EgressPolicy& egress,
                                                                egress::Resolver resolver,
                                                                std::shared_ptr<const llm::ClientTls> tls,
                                                                const std::function<void()>& drop_secrets) {
  auto child = ChildProcess::spawn("llm-caller", llm_caller_to_supervisor(), [&](UniqueFd fd) {
    return llm_caller_main(std::move(fd), tls.get(), drop_secrets);
  });
  if (!child) return child.error();
  return adopt(std::move(child).value(), egress, std::move(resolver));
}

Result<std::unique_ptr<LlmCallerClient>> LlmCallerClient::adopt(std::unique_ptr<ChildProcess> child,
                                                                const policy::EgressPolicy& egress,
                                                                egress::Resolver resolver) {
  auto report = await_ready(*child);
  if (!report) return report.error();
  return std::unique_ptr<LlmCallerClient>(
      new LlmCallerClient(std::move(child), egress, std::move(resolver), std::move(report).value()));
}

Error LlmCallerClient::fail(const std::string& what) {
  child_->kill();
  return make_error(what + "; the llm-caller was stopped (" + child_->describe_end() + ")");
}

Status LlmCallerClient::serve_connect(const ipc::Message& message) {
  auto connection = egress::connect_allowed(*egress_, message.payload, resolver_, std::chrono::milliseconds(kConnectTimeoutMs));
  EgressDecision decision{message.payload, static_cast<bool>(connection), "", ""};
  Status sent;
  if (connection) {
    decision.address = connection->address.text();
    // The caller waits with poll and may not change descriptor flags or options itself. A
    // request is written in one piece, so Nagle's algorithm would only delay a TLS handshake.
    int one = 1;
    ::setsockopt(connection->fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int flags = ::fcntl(connection->fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(connection->fd.get(), F_SETFL, flags | O_NONBLOCK) != 0)
      return fail("cannot make the egress socket non-blocking");
    sent = child_->channel().send(wire(MessageType::kConnected), message.request_id, "", connection->fd.get());
  } else {
    decision.reason = connection.error().message;
    sent = child_->channel().send(wire(MessageType::kConnectRefused), message.request_id, decision.reason);
  }
  decisions_.push_back(std::move(decision));
  if (!sent) return fail(sent.error().message);
  return Status::success();
}

Result<LlmResponse> LlmCallerClient::exchange(const LlmRequest& request) {
  const std::uint32_t id = next_id_++;
  if (auto st = child_->channel().send(wire(MessageType::kLlmRequest), id, encode_llm_request(request)); !st)
    return fail(st.error().message);
  // One deadline for the whole exchange, and one connection: a caller that keeps asking for
  // connections, or for one to another URL than the request's, is stopped.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(request.timeout_ms) +
                        std::chrono::milliseconds(kConnectTimeoutMs + 5000);
  bool connected = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail("the llm-caller did not answer in time");
    auto message = child_->channel().receive(static_cast<int>(std::min<std::int64_t>(left.count(), INT32_MAX)));
    if (!message) {
      if (child_->channel().closed()) return make_error(child_->describe_end());
      return fail(message.error().message);
    }
    if (message->type == wire(MessageType::kConnect)) {
      if (connected || message->payload != request.url)
        return fail("the llm-caller asked for a connection it was not given a request for");
      connected = true;
      if (auto st = serve_connect(*message); !st) return st.error();
      continue;
    }
    if (message->type != wire(MessageType::kLlmResponse) || message->request_id != id)
      return fail("the llm-caller sent an unexpected message");
    auto response = decode_llm_response(message->payload);
    if (!response) return fail(response.error().message);
    if (response->response.size() > request.max_response_bytes)
      return fail("the llm-caller returned more than the response limit");
    return response;
  }
}

Status LlmCallerClient::finish() { return child_->finish(); }

}  // namespace cqda::privsep
