// Malformed IPC on every channel, in both directions: the receiving side ends the peer and
// fails closed.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "common/json_text.h"
#include "egress/egress.h"
#include "ipc/channel.h"
#include "privsep/broker.h"
#include "privsep/llm_caller.h"
#include "privsep/protocol.h"
#include "privsep/reader.h"
#include "privsep_support.h"
#include "sandbox/lockdown.h"
#include "support/test_support.h"

using namespace cqda;
using privsep::MessageType;
using privsep::wire;

namespace {

struct Malformed {
  const char* name;
  std::string datagram;
  bool attach_fd = false;
};

// `permitted` is a type the receiver accepts; `unpermitted` one it never does.
std::vector<Malformed> malformed_frames(MessageType permitted, MessageType unpermitted) {
  return {
      {"payload length 0xFFFFFFFF", test::raw_frame(0xFFFFFFFFu, 0, wire(permitted), 0, 1, "")},
      {"message length 0xFFFFFFFF", test::raw_frame(0, 0xFFFFFFFFu, wire(permitted), 0, 1, "")},
      {"truncated frame", test::raw_frame(0, 0, wire(permitted), 0, 1, "").substr(0, 7)},
      {"payload shorter than declared", test::raw_frame(100, 100, wire(permitted), 0, 1, "only-some")},
      {"unknown type", test::raw_frame(0, 0, 999, 0, 1, "")},
      {"unpermitted request", test::raw_frame(0, 0, wire(unpermitted), 0, 1, "")},
      {"unexpected fd", test::raw_frame(0, 0, wire(permitted), 0, 1, ""), true},
  };
}

// Sends the malformed frame to a real, locked-down child and checks it exits with the
// protocol-error status instead of going on.
void expect_child_ends(privsep::ChildProcess& child, const Malformed& m) {
  INFO(child.name() << " <- " << m.name);
  int extra = -1;
  if (m.attach_fd) extra = ::dup(STDIN_FILENO);
  REQUIRE(test::send_raw(child.channel().fd(), m.datagram, extra));
  if (extra >= 0) ::close(extra);
  Status st = child.finish(10000);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("exited with status 3") != std::string::npos);
}

// A child that says ready, then answers the first message with `m`, then waits to be killed.
std::function<int(UniqueFd)> misbehaving_child(const ipc::PermitTable& inbound, const Malformed& m) {
  return [&inbound, m](UniqueFd fd) {
    ipc::Channel channel(std::move(fd), inbound, "supervisor");
    if (!privsep::send_ready(channel, "fake")) return 1;
    (void)channel.receive(10000);
    int extra = m.attach_fd ? ::dup(STDIN_FILENO) : -1;
    test::send_raw(channel.fd(), m.datagram, extra);
    ::sleep(30);
    return 0;
  };
}

void expect_killed(pid_t pid) {
  CHECK(::kill(pid, 0) != 0);  // killed and reaped by the client
}

}  // namespace

TEST_CASE("supervisor -> reader: a malformed frame ends the reader", "[privsep][ipc]") {
  test::TempDir dir;
  test::write_text(dir.path() / "input/a.txt", "words\n");
  for (const auto& m : malformed_frames(MessageType::kPing, MessageType::kScanResult)) {
    test::ReaderFixture fixture(dir.path() / "input");
    auto reader = privsep::ReaderClient::start(fixture.setup);
    REQUIRE(reader);
    expect_child_ends((*reader)->process(), m);
  }
}

TEST_CASE("supervisor -> llm caller and broker: a malformed frame ends the child", "[privsep][ipc]") {
  policy::EgressPolicy egress;
  for (const auto& m : malformed_frames(MessageType::kPing, MessageType::kLlmResponse)) {
    auto caller = privsep::LlmCallerClient::start(egress, egress::system_resolver());
    REQUIRE(caller);
    expect_child_ends((*caller)->process(), m);
  }
  // A connected socket nobody asked for is unpermitted too.
  {
    auto caller = privsep::LlmCallerClient::start(egress, egress::system_resolver());
    REQUIRE(caller);
    expect_child_ends((*caller)->process(),
                      {"unsolicited connection", test::raw_frame(0, 0, wire(MessageType::kConnected), 0, 9, ""), true});
  }
  for (const auto& m : malformed_frames(MessageType::kPing, MessageType::kScan)) {
    privsep::BrokerSetup setup;
    auto broker = privsep::BrokerClient::start(setup);
    REQUIRE(broker);
    expect_child_ends((*broker)->process(), m);
  }
}

TEST_CASE("reader -> supervisor: a malformed reply ends the reader and fails the request", "[privsep][ipc]") {
  policy::Policy policy = policy::default_policy();
  auto frames = malformed_frames(MessageType::kScanResult, MessageType::kScan);
  // A reply to a request never sent, and a second scan result, are violations too.
  frames.push_back({"reply with a foreign request id", test::raw_frame(8, 8, wire(MessageType::kScanResult), 0, 77,
                                                                       std::string(8, '\0'))});
  for (const auto& m : frames) {
    INFO(m.name);
    auto child = privsep::ChildProcess::spawn("reader", privsep::reader_to_supervisor(policy::default_policy().paths),
                                              misbehaving_child(privsep::supervisor_to_reader(), m));
    REQUIRE(child);
    auto reader = privsep::ReaderClient::adopt(std::move(child).value(), policy);
    REQUIRE(reader);
    const pid_t pid = (*reader)->pid();
    auto scan = (*reader)->scan();
    REQUIRE_FALSE(scan);
    CHECK(scan.error().message.find("the reader was stopped") != std::string::npos);
    expect_killed(pid);
  }
}

TEST_CASE("llm caller and broker -> supervisor: a malformed message ends the child", "[privsep][ipc]") {
  policy::EgressPolicy egress;
  for (const auto& m : malformed_frames(MessageType::kLlmResponse, MessageType::kVault)) {
    INFO(m.name);
    auto child = privsep::ChildProcess::spawn("llm-caller", privsep::llm_caller_to_supervisor(),
                                              misbehaving_child(privsep::supervisor_to_llm_caller(), m));
    REQUIRE(child);
    auto caller = privsep::LlmCallerClient::adopt(std::move(child).value(), egress, egress::system_resolver());
    REQUIRE(caller);
    const pid_t pid = (*caller)->pid();
    auto response = (*caller)->exchange({"https://example.org/", "GET / HTTP/1.1\r\n\r\n", 1024, 2000});
    REQUIRE_FALSE(response);
    expect_killed(pid);
  }
  for (const auto& m : malformed_frames(MessageType::kPong, MessageType::kDocument)) {
    INFO(m.name);
    auto child = privsep::ChildProcess::spawn("broker", privsep::broker_to_supervisor(),
                                              misbehaving_child(privsep::supervisor_to_broker(), m));
    REQUIRE(child);
    auto broker = privsep::BrokerClient::adopt(std::move(child).value());
    REQUIRE(broker);
    const pid_t pid = (*broker)->pid();
    REQUIRE_FALSE((*broker)->ping());
    expect_killed(pid);
  }
}

TEST_CASE("a child killed by its seccomp filter is reported as such", "[privsep]") {
  auto child = privsep::ChildProcess::spawn("reader", privsep::reader_to_supervisor(policy::default_policy().paths), [](UniqueFd fd) {
    sandbox::LockdownSpec spec;
    spec.role = sandbox::Role::kReader;
    spec.channel_fd = fd.get();
    spec.keep_fds = {STDERR_FILENO};
    if (!sandbox::lock_down(spec)) return 4;
    ::socket(AF_INET, SOCK_STREAM, 0);  // killed here
    return 0;
  });
  REQUIRE(child);
  auto ready = privsep::await_ready(**child, 10000);
  REQUIRE_FALSE(ready);
  CHECK(ready.error().message.find("killed by SIGSYS (it made a system call its seccomp filter forbids)") != std::string::npos);
}

TEST_CASE("children do not outlive their supervisor", "[privsep]") {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t supervisor = ::fork();
  REQUIRE(supervisor >= 0);
  if (supervisor == 0) {
    ::close(pipe_fds[0]);
    // A child that never looks at its channel: only PR_SET_PDEATHSIG can end it.
    auto child = privsep::ChildProcess::spawn("broker", privsep::broker_to_supervisor(), [](UniqueFd) {
      for (;;) ::pause();
      return 0;
    });
    pid_t pid = child ? (*child)->pid() : -1;
    if (::write(pipe_fds[1], &pid, sizeof pid) != sizeof pid) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  pid_t broker = -1;
  REQUIRE(::read(pipe_fds[0], &broker, sizeof broker) == sizeof broker);
  ::close(pipe_fds[0]);
  REQUIRE(broker > 0);
  REQUIRE(::kill(supervisor, SIGKILL) == 0);
  REQUIRE(::waitpid(supervisor, nullptr, 0) == supervisor);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    std::string state = test::proc_status_field(broker, "State");
    gone = state.empty() || state[0] == 'Z';
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(gone);
}

TEST_CASE("the protocol seed corpus decodes as its names say", "[privsep][fuzz]") {
  const auto dir = test::source_dir() / "fuzz/corpus/privsep_protocol";
  std::size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string bytes = test::slurp(entry.path());
    REQUIRE_FALSE(bytes.empty());
    const std::string_view payload = std::string_view(bytes).substr(1);
    INFO(entry.path().filename().string());
    switch (bytes[0]) {
      case 0: CHECK(privsep::decode_document_reply(payload)); break;
      case 1: CHECK(privsep::decode_scan_reply(payload)); break;
      case 2: CHECK(privsep::decode_llm_response(payload)); break;
      case 3: CHECK(privsep::decode_llm_request(payload)); break;
      case 4: CHECK(privsep::decode_read_document(payload)); break;
      case 5: CHECK(privsep::decode_read_path(payload)); break;
      case 6: CHECK(privsep::decode_page(payload)); break;
      default: FAIL("unknown selector");
    }
    // One byte short is never a valid message of the same kind.
    if (bytes[0] == 0) CHECK_FALSE(privsep::decode_document_reply(payload.substr(0, payload.size() - 1)));
    ++seeds;
  }
  CHECK(seeds >= 10);
}

TEST_CASE("a page of a document crosses to the broker whole, and a damaged one is refused", "[privsep][ipc]") {
  server::DataSource::Page page;
  page.document = {"interviews-p01-txt", "interviews/p01.txt", "txt", 40, 12345};
  for (int i = 0; i < 3; ++i) {
    Segment s;
    s.id = "interviews-p01-txt.s000" + std::to_string(i);
    s.speaker = i == 1 ? "" : "Person-8M4V";
    s.text = i == 2 ? std::string("") : "Ich kam 2019 nach Place-GS03 \xe2\x80\x94 \"quoted\"\n" + std::to_string(i);
    s.start = 100u * i + 7;
    s.length = s.text.size();
    page.segments.push_back(s);
  }
  const std::string bytes = privsep::encode_page(page);
  REQUIRE(bytes[0] == privsep::kPageReplyMark);
  auto back = privsep::decode_page(bytes);
  REQUIRE(back);
  CHECK(back->document.id == page.document.id);
  CHECK(back->document.path == page.document.path);
  CHECK(back->document.format == "txt");
  CHECK(back->document.segments == 40);
  CHECK(back->document.characters == 12345);
  REQUIRE(back->segments.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(back->segments[i].id == page.segments[i].id);
    CHECK(back->segments[i].speaker == page.segments[i].speaker);
    CHECK(back->segments[i].text == page.segments[i].text);
    CHECK(back->segments[i].start == page.segments[i].start);
    CHECK(back->segments[i].length == page.segments[i].length);
  }
  // Every cut is refused, as are a byte too many, another mark, JSON, and a count of
  // segments larger than the bytes could hold.
  for (std::size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(privsep::decode_page(bytes.substr(0, n)));
  CHECK_FALSE(privsep::decode_page(bytes + "x"));
  std::string marked = bytes;
  marked[0] = '{';
  CHECK_FALSE(privsep::decode_page(marked));
  CHECK_FALSE(privsep::decode_page(R"({"error":"no document with id x"})"));
  page.segments.clear();
  std::string counted = privsep::encode_page(page);
  counted[counted.size() - 4] = '\xff';  // the segment count, little-endian, is last
  CHECK_FALSE(privsep::decode_page(counted));
}

TEST_CASE("an llm caller that asks for a connection it has no request for is stopped", "[privsep][ipc]") {
  policy::EgressPolicy egress;
  egress.endpoints.push_back({"api", "https", "api.example.org", 443, false});
  int resolved = 0;
  egress::Resolver resolver = [&](const std::string&, std::uint16_t) -> Result<std::vector<egress::Address>> {
    ++resolved;
    return make_error("no DNS in this test");
  };
  for (const std::string& asked : {std::string("https://api.example.org/other"), std::string("https://api.example.org/v1")}) {
    const bool twice = asked == "https://api.example.org/v1";
    auto child = privsep::ChildProcess::spawn("llm-caller", privsep::llm_caller_to_supervisor(), [asked, twice](UniqueFd fd) {
      ipc::Channel channel(std::move(fd), privsep::supervisor_to_llm_caller(), "supervisor");
      if (!privsep::send_ready(channel, "fake")) return 1;
      (void)channel.receive(10000);
      (void)channel.send(wire(MessageType::kConnect), 1, asked);
      if (twice) {
        (void)channel.receive(10000);  // the refusal of the first
        (void)channel.send(wire(MessageType::kConnect), 2, asked);
      }
      ::sleep(30);
      return 0;
    });
    REQUIRE(child);
    auto caller = privsep::LlmCallerClient::adopt(std::move(child).value(), egress, resolver);
    REQUIRE(caller);
    const pid_t pid = (*caller)->pid();
    auto response = (*caller)->exchange({"https://api.example.org/v1", "GET / HTTP/1.1\r\n\r\n", 1024, 2000});
    REQUIRE_FALSE(response);
    CHECK_THAT(response.error().message, Catch::Contains("asked for a connection"));
    expect_killed(pid);
  }
  CHECK(resolved == 1);  // only the one connection that matched its request was even looked up
}

namespace {

// A broker stand-in: sends `first` as an audit record, then a data request, and exits 0 when
// the one message it gets back is that request's reply (5 otherwise).
std::function<int(UniqueFd)> auditing_child(std::string first) {
  return [first = std::move(first)](UniqueFd fd) {
    ipc::Channel channel(std::move(fd), privsep::supervisor_to_broker(), "supervisor");
    if (!privsep::send_ready(channel, "fake")) return 1;
    if (!channel.send(wire(MessageType::kAuditRecord), 0, first)) return 1;
    if (!channel.send(wire(MessageType::kDataRequest), 7, R"({"op":"list_documents"})")) return 1;
    auto reply = channel.receive(10000);
    if (!reply || reply->type != wire(MessageType::kDataReply) || reply->request_id != 7 || reply->payload != R"({"n":1})")
      return 5;
    return 0;
  };
}

}  // namespace

namespace {

// A broker stand-in that sends a malformed data request and then a well-formed audit
// record at once, and waits to be killed.
int malformed_then_record(UniqueFd fd) {
  ipc::Channel channel(std::move(fd), privsep::supervisor_to_broker(), "supervisor");
  if (!privsep::send_ready(channel, "fake")) return 1;
  if (!channel.send(wire(MessageType::kDataRequest), 3, "[1")) return 1;
  if (!channel.send(wire(MessageType::kAuditRecord), 0, R"({"tool":"after"})")) return 1;
  ::sleep(30);
  return 0;
}

}  // namespace

TEST_CASE("audit records the broker sent before it was stopped are still written", "[privsep][ipc]") {
  auto child = privsep::ChildProcess::spawn("broker", privsep::broker_to_supervisor(), malformed_then_record);
  REQUIRE(child);
  auto broker = privsep::BrokerClient::adopt(std::move(child).value());
  REQUIRE(broker);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both messages are queued
  std::vector<std::string> seen;
  Status served = (*broker)->serve([](const Json&) -> Result<std::string> { return std::string("{}"); },
                                   [&](const Json& record) -> Status {
                                     seen.push_back(record.value("tool", ""));
                                     return Status::success();
                                   });
  REQUIRE_FALSE(served);
  CHECK_THAT(served.error().message, Catch::Contains("malformed data request"));
  CHECK(seen == std::vector<std::string>{"after"});  // read after the broker was stopped
}

TEST_CASE("audit records from the broker are taken in order and never answered; a bad one ends the broker",
          "[privsep][ipc]") {
  std::vector<std::string> seen;
  const privsep::DataHandler answer = [&](const Json& request) -> Result<std::string> {
    seen.push_back("data " + request.value("op", ""));
    return std::string(R"({"n":1})");
  };
  const privsep::AuditHandler write = [&](const Json& record) -> Status {
    seen.push_back("audit " + record.value("tool", ""));
    if (record.value("tool", "") == "unwritable") return make_error("disk full");
    return Status::success();
  };
  auto start = [](std::string first) {
    auto child = privsep::ChildProcess::spawn("broker", privsep::broker_to_supervisor(), auditing_child(std::move(first)));
    REQUIRE(child);
    auto broker = privsep::BrokerClient::adopt(std::move(child).value());
    REQUIRE(broker);
    return std::move(broker).value();
  };

  SECTION("a record is written before the next request is answered") {
    auto broker = start(R"({"tool":"read_document"})");
    REQUIRE((*broker).serve(answer, write));
    CHECK(seen == std::vector<std::string>{"audit read_document", "data list_documents"});
    CHECK(broker->finish());  // the child got exactly the reply to its request
  }
  SECTION("a record that cannot be written stops the broker before its next request") {
    auto broker = start(R"({"tool":"unwritable"})");
    const pid_t pid = broker->pid();
    Status served = broker->serve(answer, write);
    REQUIRE_FALSE(served);
    CHECK_THAT(served.error().message, Catch::Contains("disk full"));
    CHECK(seen == std::vector<std::string>{"audit unwritable"});
    expect_killed(pid);
  }
  SECTION("a record that is not a JSON object stops the broker") {
    auto broker = start("[1,2");
    const pid_t pid = broker->pid();
    Status served = broker->serve(answer, write);
    REQUIRE_FALSE(served);
    CHECK_THAT(served.error().message, Catch::Contains("malformed audit record"));
    CHECK(seen.empty());
    expect_killed(pid);
  }
}

namespace {

// A broker stand-in that puts its messages on the channel at once (data requests with ids
// from 1, in order, and audit records), then notes in `replies_file` each reply as it comes:
// "<id> <payload>" per line.
struct Sent {
  bool audit;
  std::string payload;
};
std::function<int(UniqueFd)> batching_child(std::filesystem::path replies_file, std::vector<Sent> messages) {
  return [replies_file = std::move(replies_file), messages = std::move(messages)](UniqueFd fd) {
    ipc::Channel channel(std::move(fd), privsep::supervisor_to_broker(), "supervisor");
    if (!privsep::send_ready(channel, "fake")) return 1;
    std::uint32_t id = 0;
    for (const Sent& m : messages)
      if (!channel.send(wire(m.audit ? MessageType::kAuditRecord : MessageType::kDataRequest), m.audit ? 0 : ++id,
                        m.payload))
        return 1;
    for (std::uint32_t i = 0; i < id; ++i) {
      auto reply = channel.receive(10000);
      if (!reply || reply->type != wire(MessageType::kDataReply)) return 5;
      std::FILE* f = std::fopen(replies_file.c_str(), "a");
      if (!f) return 6;
      std::fprintf(f, "%u %s\n", reply->request_id, reply->payload.c_str());
      std::fclose(f);
    }
    return 0;
  };
}

}  // namespace

TEST_CASE("with a flush, a batch's answers go out only after its records are written", "[privsep][ipc]") {
  test::TempDir dir;
  const auto replies = dir.path() / "replies.txt";
  std::vector<std::string> seen;
  // Pages are told apart by their "id"; other requests by their op.
  const privsep::DataHandler answer = [&](const Json& request) -> Result<std::string> {
    const std::string what = request.value("id", request.value("op", ""));
    seen.push_back("data " + what);
    return json_text(Json{{"for", what}});
  };
  const privsep::AuditHandler write = [&](const Json& record) -> Status {
    seen.push_back("audit " + record.value("tool", ""));
    return Status::success();
  };
  const std::vector<Sent> three_pages_and_a_record = {{false, R"({"op":"read_document","id":"page1"})"},
                                                      {false, R"({"op":"read_document","id":"page2"})"},
                                                      {false, R"({"op":"read_document","id":"page3"})"},
                                                      {true, R"({"tool":"read_document"})"}};
  auto start = [&](std::vector<Sent> messages) {
    auto child =
        privsep::ChildProcess::spawn("broker", privsep::broker_to_supervisor(), batching_child(replies, std::move(messages)));
    REQUIRE(child);
    auto broker = privsep::BrokerClient::adopt(std::move(child).value());
    REQUIRE(broker);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all four messages are queued
    return std::move(broker).value();
  };
  auto replies_so_far = [&] { return std::filesystem::exists(replies) ? test::slurp(replies) : std::string(); };

  SECTION("the queued messages are one batch: handled, written, then answered in order") {
    auto broker = start(three_pages_and_a_record);
    std::vector<std::string> at_flush;  // what the child had received when the batch was written
    REQUIRE(broker->serve(answer, write, nullptr, [&]() -> Status {
      seen.push_back("flush");
      at_flush.push_back(replies_so_far());
      return Status::success();
    }));
    CHECK(seen == std::vector<std::string>{"data page1", "data page2", "data page3", "audit read_document", "flush"});
    CHECK(at_flush == std::vector<std::string>{""});
    CHECK(replies_so_far() == "1 {\"for\":\"page1\"}\n2 {\"for\":\"page2\"}\n3 {\"for\":\"page3\"}\n");
    CHECK(broker->finish());  // the child got all three replies
  }
  SECTION("a batch whose records cannot be written is never answered, and the broker is stopped") {
    auto broker = start(three_pages_and_a_record);
    const pid_t pid = broker->pid();
    Status served = broker->serve(answer, write, nullptr, [&]() -> Status {
      seen.push_back("flush");
      return make_error("disk full");
    });
    REQUIRE_FALSE(served);
    CHECK_THAT(served.error().message, Catch::Contains("run log could not be written") && Catch::Contains("disk full"));
    REQUIRE(seen.size() >= 5);
    CHECK(seen[4] == "flush");
    CHECK(replies_so_far().empty());
    expect_killed(pid);
  }
  SECTION("a batch holds 32 messages at most, audit records included") {
    std::vector<Sent> records(40, Sent{true, R"({"tool":"read_document"})"});
    records.push_back({false, R"({"op":"read_document","id":"last"})"});
    auto broker = start(records);
    std::vector<std::size_t> audits_at_flush;
    REQUIRE(broker->serve(answer, write, nullptr, [&]() -> Status {
      audits_at_flush.push_back(static_cast<std::size_t>(std::count(seen.begin(), seen.end(), "audit read_document")));
      return Status::success();
    }));
    REQUIRE(audits_at_flush.size() >= 2);
    CHECK(audits_at_flush[0] == 32);
    CHECK(audits_at_flush.back() == 40);
    CHECK(broker->finish());
  }
  SECTION("a request other than a page first sends the answers the batch holds") {
    auto broker = start({{false, R"({"op":"read_document","id":"page1"})"}, {false, R"({"op":"export_project"})"}});
    std::string when_export_ran;  // what the child had received when the slow request began
    const privsep::DataHandler slow = [&](const Json& request) -> Result<std::string> {
      if (request.value("op", "") == "export_project") {
        // The page's answer is on its way to the child: wait for the child to note it.
        for (int i = 0; i < 300 && replies_so_far().empty(); ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        when_export_ran = replies_so_far();
      }
      return answer(request);
    };
    REQUIRE(broker->serve(slow, write, nullptr, [] { return Status::success(); }));
    CHECK(when_export_ran == "1 {\"for\":\"page1\"}\n");
    CHECK(broker->finish());
  }
}
