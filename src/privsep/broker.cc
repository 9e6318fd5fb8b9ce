#include "privsep/broker.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <csignal>

#include "common/hash.h"
#include "common/json_text.h"
#include "ipc/exchange.h"
#include "mcp/stdio.h"
#include "server/catalog.h"

#include "privsep/protocol.h"
#include "sandbox/lockdown.h"

namespace cqda::privsep {
namespace {

constexpr int kDataTimeoutMs = 300000;
// A batch of the supervisor's answers is sent when the broker has nothing more queued, or
// at these bounds (messages of either kind; bytes of answers).
constexpr std::size_t kMaxBatchMessages = 32;
constexpr std::size_t kMaxBatchBytes = 1u << 20;

// Data requests answered from memory at once. Any other (a search, a coding, an export, a
// model run) first sends the answers the batch holds, so none of them waits for it.
bool quick_request(const Json& request) {
  auto op = request.find("op");
  return op != request.end() && op->is_string() &&
         (*op == "read_document_result" || *op == "read_document" || *op == "list_documents");
}
constexpr std::size_t kDataRequestDepth = 16;  // a codebook change nests a code's fields

// The broker's data: every request goes to the supervisor and waits for its reply.
class ChannelDataSource : public server::DataSource {
 public:
  explicit ChannelDataSource(ipc::Channel& channel) : channel_(channel) {}

  Result<std::vector<server::DocumentSummary>> list_documents() override {
    auto reply = ask({{"op", "list_documents"}});
    if (!reply) return reply.error();
    std::vector<server::DocumentSummary> out;
    for (const auto& d : reply->at("documents")) out.push_back(summary(d));
    return out;
  }

  // The page comes in the wire encoding (decode_page); a refusal as JSON.
  Result<Page> read_document(const std::string& id, std::uint64_t offset, std::uint64_t limit) override {
    auto message = send({{"op", "read_document"}, {"id", id}, {"offset", offset}, {"limit", limit}});
    if (!message) return message.error();
    if (!message->payload.empty() && message->payload[0] == kPageReplyMark) {
      auto page = decode_page(message->payload);
      if (!page) std::_Exit(kChildProtocolError);
      return page;
    }
    auto reply = read_reply(message->payload);
    if (reply.contains("error")) return make_error(reply["error"].get<std::string>());
    std::_Exit(kChildProtocolError);  // neither a page nor a refusal
  }

  // The supervisor writes the tool's whole result and records the call in its run log
  // before the answer leaves it; the broker sends the result on as it came.
  Result<ToolResult> read_document_result(const Json& arguments) override {
    auto message = send({{"op", "read_document_result"}, {"arguments", arguments}});
    if (!message) return message.error();
    if (!message->payload.empty() && message->payload[0] == kResultReplyMark)
      return ToolResult{message->payload.substr(1), true};
    auto reply = read_reply(message->payload);
    if (reply.contains("error")) return make_error(reply["error"].get<std::string>());
    std::_Exit(kChildProtocolError);  // neither a result nor a refusal
  }

  Result<Json> search(const Json& request) override {
    Json ask_for = request;
    ask_for["op"] = "search";
    return ask(ask_for);
  }

  Result<Json> request(const std::string& op, Json arguments) override {
    arguments["op"] = op;
    return ask(arguments);
  }

  // A record for the supervisor's run log, not answered: the supervisor takes the channel's
  // messages in order, so the record is written before the broker's next request is read,
  // and a record it cannot write ends the broker.
  bool record(const Json& entry) {
    const std::string text = json_text(entry);
    if (text.size() > kMaxAuditRecord) return false;
    if (!channel_.send(wire(MessageType::kAuditRecord), 0, text)) std::_Exit(kChildProtocolError);
    return true;
  }

  Result<Json> codebook() override {
    auto reply = ask({{"op", "codebook"}});
    if (!reply) return reply.error();
    return reply->at("codebook");
  }

 private:
  static server::DocumentSummary summary(const Json& d) {
    return {d.at("id").get<std::string>(), d.at("path").get<std::string>(), d.at("format").get<std::string>(),
            d.at("segments").get<std::uint64_t>(), d.at("characters").get<std::uint64_t>()};
  }

  // A reply with "error" is the supervisor refusing (an unknown id): the tool reports it.
  Result<Json> ask(const Json& request) {
    auto message = send(request);
    if (!message) return message.error();
    Json reply = read_reply(message->payload);
    if (reply.contains("error")) return make_error(reply["error"].get<std::string>());
    return reply;
  }

  // A broken channel ends the broker: it cannot serve without its data. A request the
  // supervisor would refuse as malformed (too large, nested too deep) is refused here, so a
  // client's arguments cannot end the broker.
  Result<ipc::Message> send(const Json& request) {
    const std::string text = json_text(request);
    if (text.size() > kMaxDataRequest) return make_error("the request is too large");
    if (depth(request) > kDataRequestDepth) return make_error("the request is nested too deeply");
    auto message = exchange_.ask(wire(MessageType::kDataRequest), text);
    if (!message) std::_Exit(kChildProtocolError);
    return message;
  }

  // Replies are the supervisor's json_text: the fast reader takes them, nlohmann what it declines.
  static Json read_reply(const std::string& payload) {
    auto read = read_json_text(payload, 64);
    Json reply = read ? std::move(*read) : Json::parse(payload, nullptr, false);
    if (reply.is_discarded() || !reply.is_object()) std::_Exit(kChildProtocolError);
    return reply;
  }

  static std::size_t depth(const Json& j) {
    std::size_t deepest = 0;
    if (j.is_structured())
      for (const auto& child : j) deepest = std::max(deepest, depth(child));
    return (j.is_structured() ? 1 : 0) + deepest;
  }

  ipc::Channel& channel_;
  // Worker threads ask at once: their requests are all on the channel together, and the
  // supervisor answers them one after another.
  ipc::Exchange exchange_{channel_, wire(MessageType::kDataReply), kDataTimeoutMs};
};

// cqda's MCP offering, answered from the supervisor's channel.
std::unique_ptr<mcp::Catalog> make_catalog(ChannelDataSource& source, const std::string& version) {
  auto catalog = server::build_catalog(source, version);
  // Every tool call that ran is recorded in the supervisor's run log: which tool, hashes of
  // the arguments and of the result, and how many bytes went to the client.
  catalog->tools().observe([&source](const mcp::Tool& tool, const Json& arguments, bool is_error,
                                     std::string_view sent) {
    return source.record({{"tool", tool.name},
                          {"arguments_sha256", sha256_hex(json_text(arguments))},
                          {"result_sha256", sha256_hex(sent)},
                          {"bytes", sent.size()},
                          {"is_error", is_error}});
  });
  return catalog;
}

// Newline-delimited JSON-RPC on stdin/stdout; a clean exit on EOF.
int serve_mcp_stdio(ipc::Channel& channel, const std::string& version) {
  ChannelDataSource source(channel);
  auto catalog = make_catalog(source, version);
  auto session = catalog->new_session();
  return mcp::serve_stdio(*session, STDIN_FILENO, STDOUT_FILENO) == 0 ? 0 : kChildInternalError;
}

// Streamable HTTP on the listening socket, one session per client, until the supervisor
// ends the broker.
int serve_mcp_http(ipc::Channel& channel, const BrokerSetup& setup) {
  ChannelDataSource source(channel);
  auto catalog = make_catalog(source, setup.server_version);
  auto server = http::Server::create(UniqueFd(setup.http->listener_fd), setup.http->options,
                                     [&catalog] { return catalog->new_session(); });
  if (!server) {
    std::fprintf(stderr, "cqda broker: %s\n", server.error().message.c_str());
    return kChildInternalError;
  }
  (*server)->run();
  return 0;
}

// The broker writes its messages with json_text: the fast reader takes what it can (within
// the same limits), and parse_json decides the rest, with its reasons for a refusal.
Result<Json> read_message(const std::string& payload, std::string_view what, const JsonLimits& limits) {
  if (payload.size() <= limits.max_bytes)
    if (auto fast = read_json_text(payload, limits.max_depth)) return std::move(*fast);
  return parse_json(payload, what, limits);
}

}  // namespace

int broker_main(const BrokerSetup& setup, UniqueFd channel_fd) {
  if (setup.drop_secrets) setup.drop_secrets();
  // A client that closes its end is an EPIPE to handle, not a signal that ends the broker.
  ::signal(SIGPIPE, SIG_IGN);
  sandbox::LockdownSpec spec;
  spec.role = sandbox::Role::kBroker;
  spec.channel_fd = channel_fd.get();
  spec.keep_fds = setup.client_fds;
  spec.keep_fds.push_back(STDERR_FILENO);
  spec.read_beneath_fd = -1;
  spec.threads = true;
  // HTTP: a descriptor per client connection, up to the server's cap, and a few of its own.
  spec.max_open_files = setup.http ? setup.http->options.limits.max_connections + 64 : 256;
  spec.writes_given_files = setup.mcp_stdio;
  auto locked = lock_down_and_report(spec, std::move(channel_fd), supervisor_to_broker());
  if (!locked.channel) return locked.exit_status;
  ipc::Channel& channel = *locked.channel;
  if (setup.mcp_stdio) return serve_mcp_stdio(channel, setup.server_version);
  if (setup.http) return serve_mcp_http(channel, setup);
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

// Stops the broker, then writes the audit records it had sent before it died: a datagram
// queued on the channel stays readable after its sender is gone, and each of those records
// stands for an answer that may have left. Best effort: a record that is malformed or cannot
// be written is skipped, the rest are still tried.
void BrokerClient::end_broker(const AuditHandler& auditor) {
  child_->kill();
  JsonLimits limits;
  limits.max_bytes = kMaxAuditRecord;
  limits.max_depth = kDataRequestDepth;
  for (;;) {
    auto message = child_->channel().receive(1000);
    if (!message) return;  // end of stream (or a broken channel): nothing more was sent
    if (message->type != wire(MessageType::kAuditRecord)) continue;
    auto record = read_message(message->payload, "audit record", limits);
    if (record && record->is_object()) (void)auditor(*record);
  }
}

Status BrokerClient::serve(const DataHandler& handler, const AuditHandler& auditor, const std::atomic<bool>* stop,
                           const std::function<Status()>& flush) {
  ipc::Channel& channel = child_->channel();
  // The batch being taken: answers wait here until its records are written.
  struct Answer {
    std::uint32_t request_id;
    std::string text;
  };
  std::vector<Answer> answers;
  std::size_t answer_bytes = 0, batch_messages = 0;
  bool batch_open = false;
  // Ends the broker; whatever records the batch and the broker's last words left are
  // written, and none of the batch's answers is sent.
  auto fail = [&](std::string why) -> Status {
    end_broker(auditor);
    if (flush) (void)flush();
    return make_error(std::move(why));
  };
  auto close_batch = [&]() -> Status {
    batch_open = false;
    if (auto st = flush(); !st) return fail("the run log could not be written: " + st.error().message);
    for (Answer& a : answers)
      if (auto st = channel.send(wire(MessageType::kDataReply), a.request_id, a.text); !st)
        return fail("cannot answer the broker: " + st.error().message);
    answers.clear();
    answer_bytes = batch_messages = 0;
    return Status::success();
  };
  for (;;) {
    // While a batch is open, only what is queued already: a wait closes the batch first.
    const bool batching = flush && batch_open;
    auto message = channel.receive(batching ? 0 : (stop ? 250 : -1));
    if (!message) {
      if (batching && !channel.broken() && !channel.closed()) {
        if (auto st = close_batch(); !st) return st;
        continue;
      }
      if (batching && channel.closed()) {
        // The broker went away: its last batch's records are written; the answers have
        // nobody to go to.
        answers.clear();
        if (auto st = flush(); !st) return fail("the run log could not be written: " + st.error().message);
        return Status::success();
      }
      if (channel.closed()) return Status::success();
      if (stop && !channel.broken()) {  // a timeout: time to look at `stop`
        if (!stop->load()) continue;
        end_broker(auditor);
        if (flush) (void)flush();
        return Status::success();
      }
      return fail("the broker broke the protocol: " + message.error().message);
    }
    const bool audit = message->type == wire(MessageType::kAuditRecord);
    if (!audit && message->type != wire(MessageType::kDataRequest)) return fail("the broker sent an unexpected message");
    JsonLimits limits;
    limits.max_bytes = kMaxDataRequest;
    limits.max_depth = kDataRequestDepth;
    auto request = read_message(message->payload, audit ? "audit record" : "data request", limits);
    if (!request || !request->is_object())
      return fail(audit ? "the broker sent a malformed audit record" : "the broker sent a malformed data request");
    if (flush && batch_open && !audit && !quick_request(*request))
      if (auto st = close_batch(); !st) return st;
    batch_open = true;
    ++batch_messages;
    if (audit) {
      // Unanswered: a record that is refused or cannot be written ends the broker, so no
      // further tool call goes unrecorded.
      if (auto recorded = auditor(*request); !recorded)
        return fail("the broker's audit record was not written: " + recorded.error().message);
      if (flush && batch_messages >= kMaxBatchMessages)
        if (auto st = close_batch(); !st) return st;
      continue;
    }
    // Whatever the request holds, the supervisor answers or refuses it; an exception in the
    // handler (a request of the wrong shape) is a refusal, never the supervisor's end.
    Result<std::string> answer = make_error("the request could not be answered");
    try {
      answer = handler(*request);
    } catch (const std::exception&) {
      answer = make_error("malformed request");
    }
    std::string text = answer ? std::move(answer).value() : json_text(Json{{"error", answer.error().message}});
    if (text.size() > kMaxDataReply)
      text = Json{{"error", "the answer is larger than " + std::to_string(kMaxDataReply >> 20) + " MiB; ask for less"}}.dump();
    if (flush) {
      answer_bytes += text.size();
      answers.push_back({message->request_id, std::move(text)});
      // A broker that keeps sending cannot make a batch hold more than this (one more
      // answer at most past the byte bound).
      if (batch_messages >= kMaxBatchMessages || answer_bytes >= kMaxBatchBytes)
        if (auto st = close_batch(); !st) return st;
      continue;
    }
    if (auto st = channel.send(wire(MessageType::kDataReply), message->request_id, text); !st)
      return fail("cannot answer the broker: " + st.error().message);
  }
}

Status BrokerClient::finish() { return child_->finish(); }

}  // namespace cqda::privsep
