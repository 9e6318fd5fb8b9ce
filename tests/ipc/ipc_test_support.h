// Shared by the ipc tests: a permit table, a connected pair of channels, raw datagram sends
// that bypass Channel::send (to forge malformed frames), and fd counting for leak checks.
#pragma once

#include <dirent.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipc/channel.h"
#include "ipc/frame.h"

namespace cqda::ipc::test {

enum TestType : std::uint16_t { kHello = 1, kOpen = 2, kScan = 3 };

inline constexpr std::uint32_t kScanCap = 1048576;

inline const PermitTable& test_table() {
  static const PermitTable table{
      {kHello, "hello", 64, FdRule::kNone, Permit::kOnce},
      {kOpen, "open", 64 * 1024, FdRule::kOne, Permit::kMany},  // multi-frame with an fd
      {kScan, "scan", kScanCap, FdRule::kNone, Permit::kMany},
  };
  return table;
}

inline std::pair<UniqueFd, UniqueFd> make_socketpair() {
  auto fds = Channel::socketpair();
  if (!fds.ok()) throw std::runtime_error(fds.error().message);
  return std::move(fds.value());
}

// `receiver` hears from the "reader"; `sender` is the reader's end, hearing from the
// "supervisor". Raw datagrams go out on sender.fd().
struct ChannelPair {
  ChannelPair() : ChannelPair(make_socketpair()) {}
  Channel receiver;
  Channel sender;

 private:
  explicit ChannelPair(std::pair<UniqueFd, UniqueFd> fds)
      : receiver(std::move(fds.first), test_table(), "reader"),
        sender(std::move(fds.second), test_table(), "supervisor") {}
};

// One datagram exactly as given, optionally with fds attached (SCM_RIGHTS).
inline bool send_raw(int socket, std::string_view bytes, const std::vector<int>& fds = {}) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * (fds.empty() ? 1 : fds.size())));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  return ::sendmsg(socket, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// A frame with a header given field by field and `payload` after it (whatever the header
// says about its length).
inline std::string forge_frame(const FrameHeader& header, std::string_view payload) {
  std::string frame(kFrameHeaderSize, '\0');
  encode_frame_header(header, reinterpret_cast<std::uint8_t*>(frame.data()));
  frame.append(payload);
  return frame;
}

inline FrameHeader header_of(std::string_view frame) {
  return decode_frame_header(reinterpret_cast<const std::uint8_t*>(frame.data()));
}

// Open descriptors of this process (the directory stream's own fd counts every time).
inline int open_fd_count() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count;
}

// A payload whose bytes depend on `seed` and position, so a splice or shift shows.
inline std::string patterned(std::size_t size, std::uint32_t seed) {
  std::string out(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace cqda::ipc::test
