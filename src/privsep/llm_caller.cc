#include "privsep/llm_caller.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "sandbox/lockdown.h"

namespace cqda::privsep {
namespace {

constexpr int kConnectTimeoutMs = 10000;

// Writes all of `data` to the connected socket before `deadline`.
Status send_all(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
  while (!data.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLOUT, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) return make_error("sending the request timed out");
    // MSG_NOSIGNAL: a peer that closed early is an error to report, not a SIGPIPE.
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return make_error(std::string("sending the request: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::success();
}

// Reads until the peer closes, at most `max` bytes, before `deadline`.
Result<std::string> receive_all(int fd, std::size_t max, std::chrono::steady_clock::time_point deadline) {
  std::string out;
  char buffer[16384];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0)
      return make_error("the response timed out");
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return make_error(std::string("reading the response: ") + std::strerror(errno));
    }
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > max)
      return make_error("the response is larger than " + std::to_string(max) + " bytes");
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

class LlmCallerService {
 public:
  explicit LlmCallerService(ipc::Channel& channel) : channel_(channel) {}

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
      return response;
    }
    if (answer->type != wire(MessageType::kConnected) || !answer->fd.valid()) return make_error("protocol");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(request.timeout_ms);
    if (auto st = send_all(answer->fd.get(), request.request, deadline); !st) {
      response.error = st.error().message;
      return response;
    }
    response.bytes_sent = request.request.size();
    auto body = receive_all(answer->fd.get(), request.max_response_bytes, deadline);
    if (!body) {
      response.error = body.error().message;
      return response;
    }
    response.ok = true;
    response.response = std::move(body).value();
    return response;
  }

  ipc::Channel& channel_;
  std::uint32_t next_id_ = 1;
};

}  // namespace

int llm_caller_main(UniqueFd channel_fd, const std::function<void()>& drop_secrets) {
  if (drop_secrets) drop_secrets();
  sandbox::LockdownSpec spec;
  spec.role = sandbox::Role::kLlmCaller;
  spec.channel_fd = channel_fd.get();
  spec.keep_fds = {STDERR_FILENO};
  spec.read_beneath_fd = -1;
  spec.threads = false;
  spec.max_open_files = 32;
  auto locked = lock_down_and_report(spec, std::move(channel_fd), supervisor_to_llm_caller());
  if (!locked.channel) return locked.exit_status;
  return LlmCallerService(*locked.channel).run();
}

Result<std::unique_ptr<LlmCallerClient>> LlmCallerClient::start(const policy::EgressPolicy& egress,
                                                                egress::Resolver resolver,
                                                                const std::function<void()>& drop_secrets) {
  auto child = ChildProcess::spawn("llm-caller", llm_caller_to_supervisor(),
                                   [&drop_secrets](UniqueFd fd) { return llm_caller_main(std::move(fd), drop_secrets); });
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
