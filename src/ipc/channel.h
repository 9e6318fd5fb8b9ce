// One end of a SOCK_SEQPACKET socketpair between the supervisor and a child process.
// Owns its fd. Sends are thread-safe (a message's frames never interleave with another's);
// receives must come from one thread at a time. A protocol violation, a truncated datagram
// or a stray fd makes the channel broken for good (Chromium's sticky flag): every later
// send and receive fails, and the owner is expected to end the peer.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "common/fd.h"
#include "common/result.h"
#include "ipc/frame.h"

namespace cqda::ipc {

struct Message {
  std::uint16_t type = 0;
  std::uint32_t request_id = 0;
  std::string payload;
  UniqueFd fd;  // valid only for types whose rule is FdRule::kOne
};

class Channel {
 public:
  // A connected pair, both ends close-on-exec.
  static Result<std::pair<UniqueFd, UniqueFd>> socketpair();

  // `inbound` lists what the peer may send; it must outlive the channel. `peer` names the
  // other side in errors ("reader").
  Channel(UniqueFd fd, const PermitTable& inbound, std::string peer);
  Channel(Channel&&) = delete;

  // Sends one message (split into frames as needed), with `fd` (not consumed, may be -1)
  // attached to the first frame. Fails on a broken channel or a send error. Blocks while the
  // peer's queue is full; an owner that needs a bound sets SO_SNDTIMEO on fd(), and a
  // timeout then fails like any send error. A failure after some frames of the message went
  // out leaves the peer mid-message, so it breaks the channel; a failure on the first frame
  // (e.g. EBADF for a bad `fd`) does not. A payload over UINT32_MAX bytes is refused.
  Status send(std::uint16_t type, std::uint32_t request_id, std::string_view payload, int fd = -1);

  // Receives the next whole message. `timeout_ms` < 0 waits forever; it bounds the whole
  // call, not each frame; 0 takes only what is queued already (a message whose later frames
  // are not there yet is taken up to them, and the next call resumes it). Errors: the peer closed the channel (closed() is then true), a
  // timeout, or a violation (broken()). A timeout is not a violation: a message cut by it
  // is resumed by the next call. Received fds carry MSG_CMSG_CLOEXEC; fds that arrive with a
  // refused frame are closed. An empty datagram reads as the peer closing (SOCK_SEQPACKET
  // cannot tell them apart, and no cqda sender produces one).
  Result<Message> receive(int timeout_ms = -1);

  bool broken() const;
  bool closed() const;
  int fd() const { return fd_.get(); }
  const std::string& peer() const { return peer_; }

 private:
  UniqueFd fd_;
  std::string peer_;
  FrameAssembler assembler_;
  std::mutex send_mutex_;
  // Atomic because send() and receive() may run on different threads.
  std::atomic<bool> closed_{false};
  std::atomic<bool> broken_{false};
  UniqueFd pending_fd_;  // came with the first frame of the message being received
  bool found_empty_ = false;  // the last receive(0) found nothing queued (receive's thread only)
};

}  // namespace cqda::ipc
