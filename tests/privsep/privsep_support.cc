#include "privsep_support.h"

#include <sys/uio.h>

#include <cstring>
#include <fstream>

namespace cqda::test {

ReaderFixture::ReaderFixture(const std::filesystem::path& input) {
  auto roster_parsed = anonymize::parse_roster_csv("name,aliases,type\nMaria Santos,Mimi,person\n");
  roster = std::move(roster_parsed).value();
  anonymizer = std::make_unique<anonymize::Anonymizer>(policy.anonymization, roster, anonymize::Gazetteer(), vault);
  auto opened = ingest::InputRoot::open(input.string());
  if (opened) root.emplace(std::move(opened).value());
  setup.policy = &policy;
  setup.roster = &roster;
  setup.anonymizer = anonymizer.get();
  setup.vault = &vault;
  setup.root = root ? &*root : nullptr;
  setup.threads = 2;
}

std::string proc_status_field(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::string value = line.substr(key.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "";
}

std::string raw_frame(std::uint32_t payload_length, std::uint32_t message_length, std::uint16_t type,
                      std::uint16_t flags, std::uint32_t request_id, const std::string& payload) {
  ipc::FrameHeader header{payload_length, message_length, type, flags, request_id};
  std::uint8_t bytes[ipc::kFrameHeaderSize];
  ipc::encode_frame_header(header, bytes);
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes) + payload;
}

bool send_raw(int socket, const std::string& datagram, int fd) {
  iovec iov{const_cast<char*>(datagram.data()), datagram.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  return ::sendmsg(socket, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(datagram.size());
}

}  // namespace cqda::test
