#include "ipc/channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <variant>
#include <vector>

namespace cqda::ipc {
namespace {

using Clock = std::chrono::steady_clock;

// Room for this many fds per datagram: one is legal, the rest only let the error say how
// many came. Fds beyond it set MSG_CTRUNC and are closed by the kernel, never installed.
constexpr std::size_t kMaxReceivedFds = 4;

std::string errno_text(int error) { return std::strerror(error); }

// Sends one frame as one datagram, the fd (if >= 0) attached with SCM_RIGHTS. Returns 0 or
// an errno value.
int send_frame(int socket, const FrameHeader& header, const char* chunk, int fd) {
  std::uint8_t head[kFrameHeaderSize];
  encode_frame_header(header, head);
  iovec iov[2] = {{head, kFrameHeaderSize}, {const_cast<char*>(chunk), header.payload_length}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = header.payload_length == 0 ? 1 : 2;
  union {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } control{};
  if (fd >= 0) {
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  }
  const std::size_t expected = kFrameHeaderSize + header.payload_length;
  for (;;) {
    // MSG_NOSIGNAL: a dead peer is an EPIPE to report, not a SIGPIPE that ends us.
    const ssize_t sent = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0) return errno;
    // A SOCK_SEQPACKET datagram goes out whole or not at all; anything else is a surprise.
    return static_cast<std::size_t>(sent) == expected ? 0 : EPROTO;
  }
}

// One datagram as received: its real size (MSG_TRUNC reports it even when the buffer was
// smaller), whether anything was cut, and the fds that came with it, already owned.
struct Datagram {
  std::size_t size = 0;
  bool truncated = false;
  bool foreign_control = false;  // a control message other than SCM_RIGHTS
  std::vector<UniqueFd> fds;
};

// Returns the datagram, or an errno value (EAGAIN when nothing was waiting).
std::variant<Datagram, int> receive_datagram(int socket, std::span<std::uint8_t> buffer) {
  iovec iov{buffer.data(), buffer.size()};
  union {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * kMaxReceivedFds)];
  } control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  ssize_t received;
  do {
    // MSG_DONTWAIT: the caller reads before it polls, and waits in poll() only on EAGAIN.
    received = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | MSG_TRUNC | MSG_DONTWAIT);
  } while (received < 0 && errno == EINTR);
  if (received < 0) return errno;

  Datagram datagram;
  // Own every fd before looking at anything else, so each return path closes them.
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
      const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof fd);
        datagram.fds.emplace_back(fd);
      }
    } else {
      datagram.foreign_control = true;
    }
  }
  datagram.size = static_cast<std::size_t>(received);
  datagram.truncated =
      (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || datagram.size > kMaxFrameSize;
  return datagram;
}

// Milliseconds left until `deadline` for poll(): -1 without a deadline, never negative.
int poll_timeout(const std::optional<Clock::time_point>& deadline) {
  if (!deadline) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, std::numeric_limits<int>::max()));
}

}  // namespace

Result<std::pair<UniqueFd, UniqueFd>> Channel::socketpair() {
  int fds[2];
  // SOCK_SEQPACKET keeps datagram boundaries (one frame each) on a connected stream that
  // reports the peer's exit; CLOEXEC so no exec'd program inherits either end by accident.
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    return make_error("socketpair(AF_UNIX, SOCK_SEQPACKET): " + errno_text(errno));
  return std::pair<UniqueFd, UniqueFd>(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

Channel::Channel(UniqueFd fd, const PermitTable& inbound, std::string peer)
    : fd_(std::move(fd)), peer_(std::move(peer)), assembler_(inbound) {}

bool Channel::broken() const { return broken_.load(); }

bool Channel::closed() const { return closed_.load(); }

Status Channel::send(std::uint16_t type, std::uint32_t request_id, std::string_view payload,
                     int fd) {
  if (payload.size() > std::numeric_limits<std::uint32_t>::max()) {
    return make_error("send to the " + peer_ + ": a " + std::to_string(payload.size()) +
                      "-byte message does not fit the frame format");
  }
  std::lock_guard<std::mutex> lock(send_mutex_);
  // Checked under the lock: a sender that failed mid-message may have just broken it.
  if (closed_) return make_error("the " + peer_ + " closed the channel");
  if (broken_) return make_error("the channel to the " + peer_ + " is broken");
  // Split as encode_message does, without copying the payload into frames.
  std::size_t offset = 0;
  do {
    const std::size_t chunk = std::min(kMaxFramePayload, payload.size() - offset);
    FrameHeader header;
    header.payload_length = static_cast<std::uint32_t>(chunk);
    header.message_length = static_cast<std::uint32_t>(payload.size());
    header.type = type;
    header.flags = offset + chunk < payload.size() ? kFrameMore : 0;
    header.request_id = request_id;
    const int error = send_frame(fd_.get(), header, payload.data() + offset, offset == 0 ? fd : -1);
    if (error != 0) {
      if (error == EPIPE || error == ECONNRESET) {
        closed_ = true;
        return make_error("the " + peer_ + " closed the channel");
      }
      // Some frames are out: the peer's assembler would take the next message's frames as
      // a violation, so nothing more may be sent.
      if (offset != 0) broken_ = true;
      return make_error("sendmsg to the " + peer_ + " (type " + std::to_string(type) +
                        ", frame at byte " + std::to_string(offset) + "): " + errno_text(error));
    }
    offset += chunk;
  } while (offset < payload.size());
  return Status::success();
}

Result<Message> Channel::receive(int timeout_ms) {
  // No early return when closed(): messages the peer sent before it closed are still
  // queued, and after them every receive reads end-of-stream again.
  if (broken_) return make_error("the channel to the " + peer_ + " is broken");
  std::optional<Clock::time_point> deadline;
  if (timeout_ms >= 0) deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  // One byte more than a frame may have, so an oversized datagram is seen as such even
  // where MSG_TRUNC would not say so.
  std::array<std::uint8_t, kMaxFrameSize + 1> buffer;

  // A busy peer has its next datagram queued already: read first, and wait in poll() only
  // when nothing is there (or the last call just found nothing: then straight to poll()).
  bool wait = std::exchange(found_empty_, false);
  for (;;) {
    if (wait) {
      pollfd pfd{fd_.get(), POLLIN, 0};
      const int ready = ::poll(&pfd, 1, poll_timeout(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) {
        broken_ = true;
        return make_error("poll on the channel to the " + peer_ + ": " + errno_text(errno));
      }
      if (ready == 0) {
        return make_error("timed out after " + std::to_string(timeout_ms) +
                          " ms waiting for a message from the " + peer_);
      }
      if ((pfd.revents & POLLNVAL) != 0) {
        broken_ = true;
        return make_error("the channel to the " + peer_ + " has no open socket");
      }
    }

    auto outcome = receive_datagram(fd_.get(), buffer);
    if (const int* error = std::get_if<int>(&outcome)) {
      if (*error == EAGAIN || *error == EWOULDBLOCK) {  // nothing yet, or a spurious wake-up
        if (timeout_ms == 0) {
          // Only what is queued was asked for, and nothing is: no poll() to say so again.
          found_empty_ = true;
          return make_error("timed out after 0 ms waiting for a message from the " + peer_);
        }
        wait = true;
        continue;
      }
      if (*error == EBADF) {
        broken_ = true;
        return make_error("the channel to the " + peer_ + " has no open socket");
      }
      if (*error == ECONNRESET) {
        closed_ = true;
        return make_error("the " + peer_ + " closed the channel");
      }
      broken_ = true;
      return make_error("recvmsg from the " + peer_ + ": " + errno_text(*error));
    }
    Datagram& datagram = std::get<Datagram>(outcome);
    if (datagram.size == 0 && !datagram.truncated) {
      // End of stream; any fds that came with an empty datagram close with `datagram`.
      closed_ = true;
      pending_fd_.reset();
      return make_error("the " + peer_ + " closed the channel");
    }

    const std::size_t kept = std::min(datagram.size, buffer.size());
    auto fed = assembler_.feed(std::span<const std::uint8_t>(buffer.data(), kept),
                               static_cast<int>(datagram.fds.size()),
                               datagram.truncated || datagram.foreign_control);
    if (!fed.ok()) {
      broken_ = true;
      pending_fd_.reset();
      std::string detail = fed.error().message;
      // The assembler only learns "truncated"; the real size and cause are known here.
      if (datagram.size > kMaxFrameSize) {
        detail = "datagram of " + std::to_string(datagram.size) + " bytes exceeds the " +
                 std::to_string(kMaxFrameSize) + "-byte frame limit";
      } else if (datagram.foreign_control) {
        detail = "datagram carries a control message other than SCM_RIGHTS";
      } else if (datagram.truncated) {
        detail = "datagram carries more than " + std::to_string(kMaxReceivedFds) + " fds";
      }
      return make_error("protocol violation by the " + peer_ + ": " + detail);
    }
    // The assembler accepted the fd count, so a single fd belongs to a first frame.
    if (datagram.fds.size() == 1) pending_fd_ = std::move(datagram.fds.front());
    if (!fed->has_value()) continue;

    AssembledMessage& assembled = **fed;
    Message message;
    message.type = assembled.type;
    message.request_id = assembled.request_id;
    message.payload = std::move(assembled.payload);
    message.fd = std::move(pending_fd_);
    return message;
  }
}

}  // namespace cqda::ipc
