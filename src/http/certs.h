// `cqda certs`: a local certificate authority and a server certificate for the HTTPS
// listener, made with OpenSSL 3.
//
// The CA (EC P-256, CA:TRUE critical, keyCertSign, valid 10 years) signs one server
// certificate (EC P-256, SAN DNS:localhost, IP:127.0.0.1, IP:::1 plus any extra names,
// serverAuth, digitalSignature, CA:FALSE, valid 825 days) and its private key is then
// discarded: it is never written, so nobody can issue another certificate under the trust
// anchor a user installs. Serial numbers are 128 random bits.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace cqda::http {

struct CertificateOptions {
  std::vector<std::string> extra_dns_names;     // added to the SAN after localhost
  std::vector<std::string> extra_ip_addresses;  // added after 127.0.0.1 and ::1
};

// PEM text in memory.
struct CertificateSet {
  std::string ca_certificate;
  std::string server_chain;  // the server certificate, then the CA certificate
  std::string server_key;    // PKCS#8, unencrypted
  std::string
      ca_fingerprint_sha256;  // "AB:CD:..." as `openssl x509 -fingerprint -sha256` prints it
};

Result<CertificateSet> make_certificates(const CertificateOptions& options = {});

enum class Overwrite { kRefuse, kReplace };

struct CertificateFiles {
  std::filesystem::path ca_certificate;  // ca.crt
  std::filesystem::path server_chain;    // server.crt
  std::filesystem::path server_key;      // server.key, mode 0600
  std::string ca_fingerprint_sha256;
};

// Creates `out_dir` (mode 0700) if missing and writes ca.crt, server.crt and server.key
// there, each through a temporary file, fsync and rename. With Overwrite::kRefuse nothing is
// written when any of the three exists (and a file that appears meanwhile is not replaced).
Result<CertificateFiles> write_certificates(const std::filesystem::path& out_dir,
                                            Overwrite overwrite = Overwrite::kRefuse,
                                            const CertificateOptions& options = {});

}  // namespace cqda::http
