// The listening socket, made before the process locks itself down (afterwards it may accept
// but never create a socket), and the "ADDR:PORT" text that names it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"

namespace cqda::http {

struct ListenAddress {
  std::string address;  // numeric IPv4 or IPv6 (without brackets)
  std::uint16_t port = 0;
};

// "127.0.0.1:8765", "[::1]:8765", or "localhost:8765" (taken as 127.0.0.1: no name lookup).
// Port 0 asks the kernel for a free port (tests).
Result<ListenAddress> parse_listen_address(std::string_view text);

// A TCP socket bound to the numeric `address` and `port` and listening (close-on-exec,
// SO_REUSEADDR, IPv6 sockets v6-only).
Result<UniqueFd> listen_tcp(const std::string& address, std::uint16_t port);

// Facts about a socket from getsockname: its port, and whether it is bound to a loopback
// address (127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104).
Result<std::uint16_t> local_port(int fd);
Result<bool> is_loopback(int fd);

}  // namespace cqda::http
