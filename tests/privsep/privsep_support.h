// Fixtures for the process tests: a reader over a temporary input folder, raw frames for
// malformed-IPC tests, and a status reader for /proc/<pid>/status.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "anonymize/anonymizer.h"
#include "anonymize/roster.h"
#include "anonymize/vault.h"
#include "ingest/input_root.h"
#include "ipc/frame.h"
#include "policy/policy.h"
#include "privsep/reader.h"

namespace cqda::test {

// A reader's inputs, kept alive for as long as the client runs.
struct ReaderFixture {
  policy::Policy policy = policy::default_policy();
  anonymize::Roster roster;
  anonymize::Vault vault = anonymize::Vault::in_memory();
  std::unique_ptr<anonymize::Anonymizer> anonymizer;
  std::optional<ingest::InputRoot> root;
  privsep::ReaderSetup setup;

  explicit ReaderFixture(const std::filesystem::path& input);
};

// "Key: value" from /proc/<pid>/status ("" when absent).
std::string proc_status_field(pid_t pid, const std::string& key);

// One raw datagram with the given header fields and payload.
std::string raw_frame(std::uint32_t payload_length, std::uint32_t message_length, std::uint16_t type,
                      std::uint16_t flags, std::uint32_t request_id, const std::string& payload);
// Sends bytes as one datagram, optionally with `fd` attached.
bool send_raw(int socket, const std::string& datagram, int fd = -1);

}  // namespace cqda::test
