// The wire format of cqda's IPC: one frame per SOCK_SEQPACKET datagram, a message in one or
// more frames. Pure: no sockets here, so the decoder is fuzzed and unit-tested directly.
//
// Frame = 16-byte header (little endian) + payload:
//   u32 payload_length   bytes of payload in this frame; must equal datagram size - 16
//   u32 message_length   total payload bytes of the whole message (same in every frame)
//   u16 type             message type (a per-channel PermitTable says which are allowed)
//   u16 flags            kFrameMore: another frame of the same message follows
//   u32 request_id       pairs a reply with its request; same in every frame of a message
// A message's frames arrive back to back; the first frame's message_length is checked
// against the type's cap before any payload memory is reserved. At most one fd travels
// with a message, attached to its first frame (SCM_RIGHTS). Every frame but the last of a
// message carries exactly kMaxFramePayload bytes, so a message of n bytes has exactly
// max(1, ceil(n / kMaxFramePayload)) frames and a peer cannot drip it out in tiny pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cqda::ipc {

inline constexpr std::size_t kFrameHeaderSize = 16;
// One datagram; well under the default socket send buffer so a send never needs tuning.
inline constexpr std::size_t kMaxFrameSize = 32 * 1024;
inline constexpr std::size_t kMaxFramePayload = kMaxFrameSize - kFrameHeaderSize;
inline constexpr std::uint16_t kFrameMore = 1;

struct FrameHeader {
  std::uint32_t payload_length = 0;
  std::uint32_t message_length = 0;
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::uint32_t request_id = 0;
};

void encode_frame_header(const FrameHeader& header, std::uint8_t out[kFrameHeaderSize]);
// The inverse of encode_frame_header; every bit pattern decodes (validation is the
// assembler's job).
FrameHeader decode_frame_header(const std::uint8_t in[kFrameHeaderSize]);

// Splits a message into frames (header + payload chunk each): full kMaxFramePayload chunks
// with kFrameMore, then the rest; an empty payload is one empty frame. Precondition:
// payload.size() <= UINT32_MAX (Channel::send checks it; caps are far below).
std::vector<std::string> encode_message(std::uint16_t type, std::uint32_t request_id, std::string_view payload);

// Whether a message type may carry an fd.
enum class FdRule { kNone, kOne };
// How often the peer may send a message type over the channel's life.
enum class Permit { kOnce, kMany };

struct Rule {
  std::uint16_t type;
  const char* name;            // for error messages ("reader sent unpermitted 'scan_result'")
  std::uint32_t max_length;    // cap on message_length
  FdRule fd;
  Permit permit;
};

// The messages one side accepts from its peer (OpenSSH's monitor table). Anything not in
// the table is fatal for the channel.
class PermitTable {
 public:
  PermitTable(std::initializer_list<Rule> rules);
  explicit PermitTable(std::vector<Rule> rules);
  const Rule* find(std::uint16_t type) const;
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

// A whole message as the assembler hands it over. `fd_attached` says an fd came with the
// first frame; the Channel owns the fd itself.
struct AssembledMessage {
  std::uint16_t type = 0;
  std::uint32_t request_id = 0;
  std::string payload;
  bool fd_attached = false;
};

// Reassembles messages from datagrams and enforces the PermitTable. Any violation is
// returned as an Error and makes the assembler broken for good (sticky): every later call
// fails too. Violations: datagram shorter than a header or longer than kMaxFrameSize (the
// caller reports truncation with `truncated`), payload_length disagreeing with the datagram,
// message_length over the type's cap or disagreeing between frames, a frame of another
// type/request id in the middle of a message, more payload than message_length, a last
// frame short of it, an unknown type, a kOnce type seen twice, an fd where the type allows
// none, a missing fd where it needs one, an fd on a continuation frame, more than one fd;
// also (deny by default) flag bits other than kFrameMore and a non-last frame that is not
// full (see the frame layout above).
class FrameAssembler {
 public:
  explicit FrameAssembler(const PermitTable& table) : table_(&table) {}

  // Feeds one received datagram with the number of fds that came with it. Returns a
  // message when this frame completed one, nullopt when more frames are expected.
  Result<std::optional<AssembledMessage>> feed(std::span<const std::uint8_t> datagram, int fd_count,
                                               bool truncated = false);
  bool broken() const { return broken_; }
  bool mid_message() const { return partial_.has_value(); }

 private:
  Error fail(std::string message);
  Result<std::optional<AssembledMessage>> first_frame(const FrameHeader& header,
                                                      std::span<const std::uint8_t> payload,
                                                      int fd_count);
  Result<std::optional<AssembledMessage>> continuation_frame(const FrameHeader& header,
                                                             std::span<const std::uint8_t> payload,
                                                             int fd_count);
  const PermitTable* table_;
  std::optional<AssembledMessage> partial_;
  FrameHeader partial_header_{};
  std::vector<std::uint16_t> seen_once_;
  bool broken_ = false;
  std::string first_error_;  // repeated by every call after the first violation
};

}  // namespace cqda::ipc
