#include "runlog/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/fd.h"
#include "common/files.h"
#include "common/hash.h"

namespace cqda::runlog {
namespace {

// Key files are one short line; anything larger is not a key file.
constexpr std::size_t kMaxKeyFileBytes = 4096;

Status ensure_sodium() {
  if (sodium_init() < 0) return make_error("sodium_init: libsodium failed to initialise");
  return {};
}

// Wipes a string that held secret material when it goes out of scope.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& s) : s_(s) {}
  ~WipeOnExit() { sodium_memzero(s_.data(), s_.size()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& s_;
};

// "<tag> <64 hex>" followed by optional trailing whitespace; decodes the 32 bytes into `out`.
Status parse_key_line(std::string_view text, std::string_view tag, std::string_view what,
                      std::array<std::uint8_t, 32>& out) {
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  const std::string expected_start = std::string(tag) + " ";
  if (text.substr(0, expected_start.size()) != expected_start) {
    return make_error(std::string(what) +
                      ": not a cqda key file (expected a line starting with \"" + std::string(tag) +
                      " \")");
  }
  std::string_view hex = text.substr(expected_start.size());
  std::string decoded;
  WipeOnExit wipe(decoded);
  if (hex.size() != 64 || !from_hex(hex, decoded) || decoded.size() != 32) {
    return make_error(std::string(what) + ": the key must be 64 hex digits after \"" +
                      std::string(tag) + " \"");
  }
  std::memcpy(out.data(), decoded.data(), 32);
  return {};
}

// Reads a key file of at most kMaxKeyFileBytes through an already opened descriptor.
Result<std::string> read_small(int fd, const std::filesystem::path& path) {
  std::string content(kMaxKeyFileBytes + 1, '\0');
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::read(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      sodium_memzero(content.data(), content.size());
      return make_error("read(" + path.string() + "): " + errno_text(errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done > kMaxKeyFileBytes) {
    sodium_memzero(content.data(), content.size());
    return make_error(path.string() + ": larger than " + std::to_string(kMaxKeyFileBytes) +
                      " bytes - not a key file");
  }
  content.resize(done);  // the bytes past `done` were never written: still zero
  return content;
}

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("write(" + path.string() + "): " + errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// Creates `path` exclusively (never follows or replaces anything), writes `content`, sets
// exactly `mode` (umask only removes bits; fchmod makes 0644 hold under umask 077), fsyncs.
Status create_key_file(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    int err = errno;
    if (err == EEXIST)
      return make_error("create(" + path.string() +
                        "): the file already exists - refusing to "
                        "overwrite a key; move it away or choose another folder");
    return make_error("create(" + path.string() + "): " + errno_text(err));
  }
  if (::fchmod(fd.get(), mode) != 0)
    return make_error("fchmod(" + path.string() + "): " + errno_text(errno));
  if (Status s = write_all(fd.get(), content, path); !s) return s;
  if (::fsync(fd.get()) != 0)
    return make_error("fsync(" + path.string() + "): " + errno_text(errno));
  return {};
}

}  // namespace

std::string key_id(const PublicKey& key) {
  Sha256Digest digest =
      sha256(std::string_view(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()));
  return to_hex(digest.data(), 8);
}

bool verify_signature(const PublicKey& key, std::string_view message,
                      const Ed25519Signature& signature) {
  if (!ensure_sodium()) return false;
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.bytes.data()) == 0;
}

Result<SigningKey> SigningKey::generate() {
  if (Status s = ensure_sodium(); !s) return s.error();
  Ed25519Seed seed{};
  randombytes_buf(seed.data(), seed.size());
  Result<SigningKey> key = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

Result<SigningKey> SigningKey::from_seed(const Ed25519Seed& seed) {
  static_assert(crypto_sign_SECRETKEYBYTES == 64 && crypto_sign_PUBLICKEYBYTES == 32 &&
                crypto_sign_SEEDBYTES == 32 && crypto_sign_BYTES == 64);
  if (Status s = ensure_sodium(); !s) return s.error();
  auto* secret = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
  if (secret == nullptr)
    return make_error("sodium_malloc: cannot allocate protected memory for the signing key");
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  if (crypto_sign_seed_keypair(pk.data(), secret, seed.data()) != 0) {
    sodium_free(secret);
    return make_error("crypto_sign_seed_keypair failed");
  }
  return SigningKey(secret);
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : secret_(std::exchange(other.secret_, nullptr)) {}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    if (secret_ != nullptr) sodium_free(secret_);
    secret_ = std::exchange(other.secret_, nullptr);
  }
  return *this;
}

SigningKey::~SigningKey() {
  if (secret_ != nullptr) sodium_free(secret_);  // sodium_free wipes before unmapping
}

PublicKey SigningKey::public_key() const {
  PublicKey key;
  // libsodium's secret key is seed || public key.
  crypto_sign_ed25519_sk_to_pk(key.bytes.data(), secret_);
  return key;
}

Ed25519Signature SigningKey::sign(std::string_view message) const {
  Ed25519Signature signature{};
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_);
  return signature;
}

void SigningKey::copy_seed(Ed25519Seed& out) const {
  crypto_sign_ed25519_sk_to_seed(out.data(), secret_);
}

std::string format_public_key_file(const PublicKey& key) {
  return std::string(kPublicKeyFileTag) + " " + to_hex(key.bytes) + "\n";
}

Result<PublicKey> parse_public_key_file(std::string_view text, std::string_view what) {
  PublicKey key;
  if (Status s = parse_key_line(text, kPublicKeyFileTag, what, key.bytes); !s) {
    if (text.substr(0, kSecretKeyFileTag.size()) == kSecretKeyFileTag)
      return make_error(std::string(what) +
                        ": this is a secret key file; give the public key "
                        "(" +
                        std::string(kPublicKeyFileName) + ")");
    return s.error();
  }
  return key;
}

bool is_under_secrets_mount(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) return false;
  absolute = absolute.lexically_normal();
  const std::filesystem::path root(kSecretsMountDir);
  auto it = absolute.begin();
  for (const auto& part : root) {
    if (it == absolute.end() || *it != part) return false;
    ++it;
  }
  return it != absolute.end();  // something below the folder, not the folder itself
}

Status write_keypair(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error("mkdir(" + dir.string() + "): " + errno_text(errno));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return make_error("stat(" + dir.string() + "): " + errno_text(errno));
  if (!S_ISDIR(st.st_mode)) return make_error(dir.string() + ": not a folder");

  const std::filesystem::path secret_path = dir / kSecretKeyFileName;
  const std::filesystem::path public_path = dir / kPublicKeyFileName;
  // Check both first so that an existing public key does not leave a fresh, unmatched secret.
  for (const auto& p : {secret_path, public_path}) {
    struct stat existing {};
    if (::lstat(p.c_str(), &existing) == 0)
      return make_error(p.string() +
                        ": already exists - refusing to overwrite a key; move it "
                        "away or choose another folder");
  }

  Result<SigningKey> key = SigningKey::generate();
  if (!key) return key.error();
  Ed25519Seed seed{};
  key->copy_seed(seed);
  std::string secret_text = std::string(kSecretKeyFileTag) + " " + to_hex(seed) + "\n";
  sodium_memzero(seed.data(), seed.size());
  Status written = create_key_file(secret_path, secret_text, 0600);
  sodium_memzero(secret_text.data(), secret_text.size());
  if (!written) {
    ::unlink(secret_path.c_str());
    return written;
  }
  if (Status s = create_key_file(public_path, format_public_key_file(key->public_key()), 0644);
      !s) {
    ::unlink(secret_path.c_str());
    return s;
  }
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid() || ::fsync(dir_fd.get()) != 0)
    return make_error("fsync(" + dir.string() + "): " + errno_text(errno));
  return {};
}

Result<SigningKey> load_signing_key(const std::filesystem::path& path) {
  // The final component may be a symlink (Kubernetes mounts secrets that way); the checks
  // below apply to the file actually opened.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return make_error("open(" + path.string() + "): " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error("fstat(" + path.string() + "): " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return make_error(path.string() + ": not a regular file");
  const mode_t forbidden = is_under_secrets_mount(path) ? 0022 : 0077;
  if ((st.st_mode & forbidden) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(path.string() + ": the signing key is accessible by group or other (mode " +
                      mode + ") - run `chmod 600 " + path.string() + "`");
  }
  Result<std::string> text = read_small(fd.get(), path);
  if (!text) return text.error();
  WipeOnExit wipe(text.value());
  Ed25519Seed seed{};
  Status parsed = parse_key_line(*text, kSecretKeyFileTag, path.string(), seed);
  if (!parsed) {
    sodium_memzero(seed.data(), seed.size());
    if (text->substr(0, kPublicKeyFileTag.size()) == kPublicKeyFileTag)
      return make_error(path.string() +
                        ": this is a public key file; signing needs the secret "
                        "key (" +
                        std::string(kSecretKeyFileName) + ")");
    return parsed.error();
  }
  Result<SigningKey> key = SigningKey::from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

Result<PublicKey> load_public_key(const std::filesystem::path& path) {
  Result<std::string> text = read_file(path, kMaxKeyFileBytes);
  if (!text) return text.error();
  return parse_public_key_file(*text, path.string());
}

}  // namespace cqda::runlog
