// The server's TLS context, built once from PEM text in memory (the serving process cannot
// open files): TLS 1.2 and 1.3 only; on TLS 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305;
// the server's cipher order; no compression, renegotiation, session tickets or session
// cache; OpenSSL security level 2.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cqda::http {

// Loads OpenSSL's configuration and error strings and seeds its random generator now, while
// files may still be opened; later calls do nothing.
Status init_openssl();

// `certificate_chain_pem`: the server certificate, then its issuers. `private_key_pem`: the
// server key (PKCS#8 or traditional PEM, unencrypted). Errors name what failed to load.
Result<std::unique_ptr<boost::asio::ssl::context>> make_tls_context(
    std::string_view certificate_chain_pem, std::string_view private_key_pem);

// The newest OpenSSL error queue entries as text (and clears the queue).
std::string openssl_errors();

}  // namespace cqda::http
