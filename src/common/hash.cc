#include "common/hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace cqda {
namespace {

// OpenSSL's SHA-256 uses the CPU's SHA extensions where it has them, several times faster
// than a portable implementation on the pages and files hashed here. The method is fetched
// once; sandbox::lock_down calls sha256 before its filters so that OpenSSL has read its
// configuration by then.
const EVP_MD* sha256_method() {
  static EVP_MD* method = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) throw std::runtime_error("OpenSSL has no SHA-256");
    return fetched;
  }();
  return method;
}

}  // namespace

Sha256Digest sha256(std::string_view bytes) {
  Sha256Digest digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, sha256_method(), nullptr) != 1 ||
      size != digest.size())
    throw std::runtime_error("SHA-256 failed");
  return digest;
}

std::string sha256_hex(std::string_view bytes) { return to_hex(sha256(bytes)); }

struct Sha256::Context {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() {
  const EVP_MD* method = sha256_method();  // may throw: nothing is allocated yet
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, method, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("SHA-256 failed");
  }
  try {
    context_ = new Context{ctx};
  } catch (...) {
    EVP_MD_CTX_free(ctx);
    throw;
  }
}

Sha256::~Sha256() {
  if (context_ == nullptr) return;
  EVP_MD_CTX_free(context_->ctx);
  delete context_;
}

Sha256::Sha256(Sha256&& other) noexcept : context_(std::exchange(other.context_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    Sha256 old(std::move(*this));
    context_ = std::exchange(other.context_, nullptr);
  }
  return *this;
}

void Sha256::update(std::string_view bytes) {
  if (context_ == nullptr || EVP_DigestUpdate(context_->ctx, bytes.data(), bytes.size()) != 1)
    throw std::runtime_error("SHA-256 failed");
}

std::string Sha256::finish_hex() {
  Sha256Digest digest{};
  unsigned int size = 0;
  if (context_ == nullptr || EVP_DigestFinal_ex(context_->ctx, digest.data(), &size) != 1 || size != digest.size())
    throw std::runtime_error("SHA-256 failed");
  Sha256 spent(std::move(*this));
  return to_hex(digest);
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

bool from_hex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.clear();
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

}  // namespace cqda
