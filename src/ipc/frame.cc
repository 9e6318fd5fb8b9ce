#include "ipc/frame.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace cqda::ipc {
namespace {

void put_u16(std::uint8_t* out, std::uint16_t v) {
  out[0] = static_cast<std::uint8_t>(v);
  out[1] = static_cast<std::uint8_t>(v >> 8);
}

void put_u32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint16_t get_u16(const std::uint8_t* in) {
  return static_cast<std::uint16_t>(in[0] | (in[1] << 8));
}

std::uint32_t get_u32(const std::uint8_t* in) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | in[i];
  return v;
}

// The name of a permitted type for error messages.
std::string quoted(const Rule& rule) {
  return "'" + std::string(rule.name != nullptr ? rule.name : "?") + "'";
}

// "type 7" for a type the table does not know, "'scan' (type 7)" for one it does.
std::string describe_type(const PermitTable& table, std::uint16_t type) {
  const Rule* rule = table.find(type);
  if (rule == nullptr) return "type " + std::to_string(type);
  return quoted(*rule) + " (type " + std::to_string(type) + ")";
}

std::string hex16(std::uint16_t v) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", static_cast<unsigned>(v));
  return text;
}

// How a frame's payload fits the message it belongs to, given `have` bytes already received:
// the checks shared by first and continuation frames. Empty when the frame fits.
std::string extent_error(const std::string& name, const FrameHeader& header, std::size_t have) {
  const std::size_t remaining = header.message_length - have;
  const std::string total = std::to_string(header.message_length);
  const bool more = (header.flags & kFrameMore) != 0;
  if (header.payload_length > remaining) {
    return "frame of " + name + " carries " + std::to_string(header.payload_length) +
           " payload bytes where only " + std::to_string(remaining) + " of the " + total +
           "-byte message remain";
  }
  if (!more && header.payload_length != remaining) {
    return name + " message ends after " + std::to_string(have + header.payload_length) + " of " +
           total + " bytes";
  }
  if (more && header.payload_length != kMaxFramePayload) {
    return "non-last frame of " + name + " carries " + std::to_string(header.payload_length) +
           " bytes instead of " + std::to_string(kMaxFramePayload);
  }
  if (more && header.payload_length == remaining) {
    return "frame of " + name + " announces more frames but the " + total +
           "-byte message is complete";
  }
  return {};
}

}  // namespace

void encode_frame_header(const FrameHeader& header, std::uint8_t out[kFrameHeaderSize]) {
  put_u32(out + 0, header.payload_length);
  put_u32(out + 4, header.message_length);
  put_u16(out + 8, header.type);
  put_u16(out + 10, header.flags);
  put_u32(out + 12, header.request_id);
}

FrameHeader decode_frame_header(const std::uint8_t in[kFrameHeaderSize]) {
  FrameHeader header;
  header.payload_length = get_u32(in + 0);
  header.message_length = get_u32(in + 4);
  header.type = get_u16(in + 8);
  header.flags = get_u16(in + 10);
  header.request_id = get_u32(in + 12);
  return header;
}

std::vector<std::string> encode_message(std::uint16_t type, std::uint32_t request_id,
                                        std::string_view payload) {
  std::vector<std::string> frames;
  frames.reserve(
      std::max<std::size_t>(1, (payload.size() + kMaxFramePayload - 1) / kMaxFramePayload));
  std::size_t offset = 0;
  do {
    const std::size_t chunk = std::min(kMaxFramePayload, payload.size() - offset);
    const bool more = offset + chunk < payload.size();
    FrameHeader header;
    header.payload_length = static_cast<std::uint32_t>(chunk);
    header.message_length = static_cast<std::uint32_t>(payload.size());
    header.type = type;
    header.flags = more ? kFrameMore : 0;
    header.request_id = request_id;
    std::string frame(kFrameHeaderSize, '\0');
    encode_frame_header(header, reinterpret_cast<std::uint8_t*>(frame.data()));
    frame.append(payload.substr(offset, chunk));
    frames.push_back(std::move(frame));
    offset += chunk;
  } while (offset < payload.size());
  return frames;
}

PermitTable::PermitTable(std::initializer_list<Rule> rules) : rules_(rules) {}

PermitTable::PermitTable(std::vector<Rule> rules) : rules_(std::move(rules)) {}

// Linear: a role's table has a handful of entries. With a duplicated type the first wins.
const Rule* PermitTable::find(std::uint16_t type) const {
  for (const Rule& rule : rules_) {
    if (rule.type == type) return &rule;
  }
  return nullptr;
}

Error FrameAssembler::fail(std::string message) {
  broken_ = true;
  partial_.reset();
  first_error_ = message;
  return make_error(std::move(message));
}

Result<std::optional<AssembledMessage>> FrameAssembler::feed(std::span<const std::uint8_t> datagram,
                                                             int fd_count, bool truncated) {
  if (broken_) return make_error("channel already broken by an earlier violation: " + first_error_);
  // Size checks come first: nothing is decoded from a datagram the kernel cut short.
  if (truncated) {
    return fail("datagram truncated on receipt (over " + std::to_string(kMaxFrameSize) +
                " bytes, or more fds than fit)");
  }
  if (datagram.size() < kFrameHeaderSize) {
    return fail("datagram of " + std::to_string(datagram.size()) + " bytes is shorter than the " +
                std::to_string(kFrameHeaderSize) + "-byte frame header");
  }
  if (datagram.size() > kMaxFrameSize) {
    return fail("datagram of " + std::to_string(datagram.size()) + " bytes exceeds the " +
                std::to_string(kMaxFrameSize) + "-byte frame limit");
  }
  if (fd_count < 0) return fail("negative fd count " + std::to_string(fd_count));
  if (fd_count > 1) {
    return fail("frame carries " + std::to_string(fd_count) +
                " fds; at most one travels with a message");
  }

  const FrameHeader header = decode_frame_header(datagram.data());
  const std::span<const std::uint8_t> payload = datagram.subspan(kFrameHeaderSize);
  if (header.payload_length != payload.size()) {
    return fail("frame header declares " + std::to_string(header.payload_length) +
                " payload bytes but the datagram carries " + std::to_string(payload.size()));
  }
  if ((header.flags & ~kFrameMore) != 0) {
    return fail("frame of " + describe_type(*table_, header.type) + " has unknown flags " +
                hex16(header.flags));
  }
  return partial_ ? continuation_frame(header, payload, fd_count)
                  : first_frame(header, payload, fd_count);
}

Result<std::optional<AssembledMessage>> FrameAssembler::first_frame(
    const FrameHeader& header, std::span<const std::uint8_t> payload, int fd_count) {
  const Rule* rule = table_->find(header.type);
  if (rule == nullptr) {
    return fail("message type " + std::to_string(header.type) + " is not permitted");
  }
  const std::string name = quoted(*rule);
  // The cap is checked before anything is reserved below.
  if (header.message_length > rule->max_length) {
    return fail("frame declares a " + std::to_string(header.message_length) +
                "-byte message of type " + name + " (cap " + std::to_string(rule->max_length) +
                ")");
  }
  if (rule->permit == Permit::kOnce &&
      std::find(seen_once_.begin(), seen_once_.end(), header.type) != seen_once_.end()) {
    return fail("second " + name + " message; it is permitted once");
  }
  if (rule->fd == FdRule::kNone && fd_count != 0) {
    return fail(name + " message carries an fd; the type allows none");
  }
  if (rule->fd == FdRule::kOne && fd_count == 0) {
    return fail(name + " message arrived without its fd");
  }
  if (std::string error = extent_error(name, header, 0); !error.empty()) return fail(error);
  if (rule->permit == Permit::kOnce) seen_once_.push_back(header.type);

  AssembledMessage message;
  message.type = header.type;
  message.request_id = header.request_id;
  message.fd_attached = fd_count == 1;
  message.payload.reserve(header.message_length);
  message.payload.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  if ((header.flags & kFrameMore) == 0) return std::optional<AssembledMessage>(std::move(message));
  partial_ = std::move(message);
  partial_header_ = header;
  return std::optional<AssembledMessage>();
}

Result<std::optional<AssembledMessage>> FrameAssembler::continuation_frame(
    const FrameHeader& header, std::span<const std::uint8_t> payload, int fd_count) {
  const std::string name = describe_type(*table_, partial_header_.type);
  if (header.type != partial_header_.type || header.request_id != partial_header_.request_id) {
    return fail("frame of " + describe_type(*table_, header.type) + " request " +
                std::to_string(header.request_id) + " arrived in the middle of " + name +
                " request " + std::to_string(partial_header_.request_id));
  }
  if (header.message_length != partial_header_.message_length) {
    return fail("continuation frame of " + name + " declares a " +
                std::to_string(header.message_length) + "-byte message; its first frame said " +
                std::to_string(partial_header_.message_length));
  }
  if (fd_count != 0) return fail("fd attached to a continuation frame of " + name);

  if (std::string error = extent_error(name, header, partial_->payload.size()); !error.empty())
    return fail(error);
  partial_->payload.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  if ((header.flags & kFrameMore) != 0) return std::optional<AssembledMessage>();
  std::optional<AssembledMessage> done = std::move(partial_);
  partial_.reset();
  return done;
}

}  // namespace cqda::ipc
