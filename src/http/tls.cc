#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <array>

namespace cqda::http {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2: forward secrecy (ECDHE) and AEAD ciphers only. TLS 1.3 has only such suites.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";

Error tls_error(const std::string& what) {
  return make_error("TLS context: " + what + ": " + openssl_errors());
}

}  // namespace

std::string openssl_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    std::array<char, 256> buffer{};
    ERR_error_string_n(code, buffer.data(), buffer.size());
    if (!text.empty()) text += "; ";
    text += buffer.data();
  }
  return text.empty() ? "no OpenSSL error recorded" : text;
}

Status init_openssl() {
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS |
                           OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                       nullptr) != 1)
    return make_error("OPENSSL_init_ssl: " + openssl_errors());
  std::array<unsigned char, 16> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1)
    return make_error("RAND_bytes: " + openssl_errors());
  return {};
}

Result<std::unique_ptr<ssl::context>> make_tls_context(std::string_view certificate_chain_pem,
                                                       std::string_view private_key_pem) {
  if (auto status = init_openssl(); !status) return status.error();
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return tls_error("minimum version");
  SSL_CTX_set_security_level(ctx, 2);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  // Idle connections give their read and write buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return tls_error("TLS 1.2 ciphers");
  if (SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) return tls_error("TLS 1.3 suites");
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return tls_error("groups");

  boost::system::error_code ec;
  context->use_certificate_chain(
      boost::asio::buffer(certificate_chain_pem.data(), certificate_chain_pem.size()), ec);
  if (ec) return tls_error("certificate chain (PEM)");
  context->use_private_key(boost::asio::buffer(private_key_pem.data(), private_key_pem.size()),
                           ssl::context::pem, ec);
  if (ec) return tls_error("private key (PEM)");
  if (SSL_CTX_check_private_key(ctx) != 1)
    return tls_error("the private key does not match the certificate");
  return context;
}

}  // namespace cqda::http
