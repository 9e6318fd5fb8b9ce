#include "anonymize/vault.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "common/fd.h"
#include "common/files.h"
#include "common/hash.h"

namespace cqda::anonymize {
namespace {

constexpr std::string_view kMagic = "CQDAVLT1";
constexpr std::uint32_t kPlainVersion = 1;
constexpr std::size_t kMaxVaultBytes = 256u << 20;
constexpr std::size_t kMaxField = 1u << 16;

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

// Wipes a string it owns when it goes out of scope (decrypted plaintext, serialized map).
struct WipedString {
  std::string bytes;
  ~WipedString() { wipe(bytes); }
};

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_field(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// A bounds-checked reader over the decrypted plaintext.
struct Reader {
  std::string_view in;
  std::size_t pos = 0;
  bool ok = true;
  std::uint32_t u32() {
    if (in.size() - pos < 4) {
      ok = false;
      return 0;
    }
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[pos + i])) << (8 * i);
    pos += 4;
    return v;
  }
  std::string_view bytes(std::size_t n) {
    if (!ok || n > kMaxField || in.size() - pos < n) {
      ok = false;
      return {};
    }
    std::string_view s = in.substr(pos, n);
    pos += n;
    return s;
  }
  std::string_view field() { return bytes(u32()); }
};

std::string forward_key(std::string_view type_key, std::string_view canonical) {
  std::string key;
  key.reserve(type_key.size() + 1 + canonical.size());
  key.append(type_key);
  key.push_back('\0');
  key.append(canonical);
  return key;
}

Result<VaultKey> parse_key_file(const std::string& content, const std::filesystem::path& path) {
  if (content.size() == VaultKey::kSize)
    return VaultKey::from_bytes(reinterpret_cast<const std::uint8_t*>(content.data()));
  std::string_view text = content;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.size() == 2 * VaultKey::kSize) {
    WipedString raw;
    if (from_hex(text, raw.bytes) && raw.bytes.size() == VaultKey::kSize)
      return VaultKey::from_bytes(reinterpret_cast<const std::uint8_t*>(raw.bytes.data()));
  }
  return make_error("vault key " + path.string() +
                    ": expected 32 bytes or 64 hex characters, found " +
                    std::to_string(content.size()) + " bytes");
}

Result<std::string> read_key_file(int fd, const std::filesystem::path& path) {
  std::string content(200, '\0');
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::read(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("read(" + path.string() + "): " + errno_text(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  content.resize(done);
  return content;
}

}  // namespace

Result<VaultKey> load_or_create_vault_key(const std::filesystem::path& path) {
  if (sodium_init() < 0) return make_error("sodium_init failed");
  for (int attempt = 0; attempt < 2; ++attempt) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (fd.valid()) {
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return make_error("vault key " + path.string() + ": not a regular file");
      auto content = read_key_file(fd.get(), path);
      if (!content) return content.error();
      WipedString guard{std::move(*content)};
      return parse_key_file(guard.bytes, path);
    }
    if (errno != ENOENT) return make_error("open(" + path.string() + "): " + errno_text(errno));
    UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!out.valid()) {
      if (errno == EEXIST) continue;  // created by someone else meanwhile: read theirs
      return make_error("create(" + path.string() + "): " + errno_text(errno));
    }
    VaultKey key = VaultKey::random();
    std::size_t done = 0;
    while (done < VaultKey::kSize) {
      ssize_t n = ::write(out.get(), key.data() + done, VaultKey::kSize - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int err = errno;
        ::unlink(path.c_str());
        return make_error("write(" + path.string() + "): " + errno_text(err));
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(out.get()) != 0) return make_error("fsync(" + path.string() + "): " + errno_text(errno));
    return key;
  }
  return make_error("vault key " + path.string() + ": appeared and vanished while being created");
}

struct Vault::State {
  std::filesystem::path path;  // empty for an in-memory vault
  VaultKey vault_key;
  PseudonymKey pseudonym_key;
  mutable std::mutex mutex;
  std::map<std::string, std::string> forward;            // type \0 canonical -> pseudonym
  std::unordered_map<std::string, VaultEntry> reverse;  // pseudonym -> original
  bool modified = false;

  ~State() {
    // Node handles give writable keys, so the originals can be wiped before they are freed.
    while (!forward.empty()) {
      auto node = forward.extract(forward.begin());
      wipe(node.key());
      wipe(node.mapped());
    }
    while (!reverse.empty()) {
      auto node = reverse.extract(reverse.begin());
      wipe(node.key());
      wipe(node.mapped().canonical);
    }
  }

  void record(std::string_view type_key, std::string_view canonical, const std::string& pseudonym) {
    forward[forward_key(type_key, canonical)] = pseudonym;
    reverse[pseudonym] = VaultEntry{std::string(type_key), std::string(canonical)};
    modified = true;
  }

  std::string serialize() const {
    std::string out;
    put_u32(out, kPlainVersion);
    out.append(reinterpret_cast<const char*>(pseudonym_key.data()), PseudonymKey::kSize);
    put_u32(out, static_cast<std::uint32_t>(forward.size()));
    for (const auto& [key, pseudonym] : forward) {
      const std::size_t zero = key.find('\0');
      put_field(out, std::string_view(key).substr(0, zero));
      put_field(out, std::string_view(key).substr(zero + 1));
      put_field(out, pseudonym);
    }
    return out;
  }

  Status deserialize(std::string_view plain, const std::string& what) {
    Reader in{plain};
    if (in.u32() != kPlainVersion) return make_error(what + ": unsupported vault version");
    std::string_view key = in.bytes(PseudonymKey::kSize);
    if (!in.ok) return make_error(what + ": truncated vault");
    pseudonym_key = PseudonymKey::from_bytes(reinterpret_cast<const std::uint8_t*>(key.data()));
    const std::uint32_t count = in.u32();
    for (std::uint32_t i = 0; i < count && in.ok; ++i) {
      std::string_view type_key = in.field();
      std::string_view canonical = in.field();
      std::string_view pseudonym = in.field();
      if (!in.ok) break;
      std::string p(pseudonym);
      if (reverse.count(p)) return make_error(what + ": pseudonym recorded twice");
      record(type_key, canonical, p);
    }
    if (!in.ok || in.pos != plain.size()) return make_error(what + ": malformed vault contents");
    modified = false;
    return {};
  }
};

Vault::Vault(std::unique_ptr<State> state) : state_(std::move(state)) {}
Vault::Vault(Vault&& other) noexcept = default;
Vault& Vault::operator=(Vault&& other) noexcept = default;
Vault::~Vault() = default;

Vault Vault::in_memory() { return in_memory(PseudonymKey::random()); }

Vault Vault::in_memory(const PseudonymKey& pseudonym_key) {
  auto state = std::make_unique<State>();
  state->pseudonym_key = pseudonym_key;
  return Vault(std::move(state));
}

Result<Vault> Vault::open(const std::filesystem::path& path, const VaultKey& key) {
  if (sodium_init() < 0) return make_error("sodium_init failed");
  auto state = std::make_unique<State>();
  state->path = path;
  state->vault_key = key;
  std::error_code ec;
  const bool exists = std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found;
  if (!exists) {
    state->pseudonym_key = PseudonymKey::random();
    state->modified = true;
    return Vault(std::move(state));
  }
  auto content = read_file(path, kMaxVaultBytes);
  if (!content) return make_error("open vault: " + content.error().message);
  auto vault = from_sealed(*content, key, path);
  if (vault) vault->state_->modified = false;
  return vault;
}

Result<Vault> Vault::from_sealed(std::string_view box, const VaultKey& key, const std::filesystem::path& path) {
  if (sodium_init() < 0) return make_error("sodium_init failed");
  auto state = std::make_unique<State>();
  state->path = path;
  state->vault_key = key;
  const std::string what = "vault " + path.string();
  const std::size_t header = kMagic.size() + crypto_secretbox_NONCEBYTES;
  if (box.size() > kMaxVaultBytes || box.size() < header + crypto_secretbox_MACBYTES || box.substr(0, kMagic.size()) != kMagic)
    return make_error(what + ": not a cqda pseudonym vault");
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data() + kMagic.size());
  const auto* cipher = reinterpret_cast<const unsigned char*>(box.data() + header);
  const std::size_t cipher_size = box.size() - header;
  WipedString plain;
  plain.bytes.resize(cipher_size - crypto_secretbox_MACBYTES);
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.bytes.data()), cipher,
                                 cipher_size, nonce, key.data()) != 0)
    return make_error(what + ": cannot be decrypted (wrong vault key, or the file was altered)");
  Status status = state->deserialize(plain.bytes, what);
  if (!status) return status.error();
  state->modified = true;
  return Vault(std::move(state));
}

std::string Vault::pseudonym(std::string_view type_key, std::string_view canonical,
                             const PseudonymFormat& format) {
  std::lock_guard lock(state_->mutex);
  const std::string key = forward_key(type_key, canonical);
  if (auto it = state_->forward.find(key); it != state_->forward.end()) return it->second;
  const Sha256Digest digest = pseudonym_mac(state_->pseudonym_key, type_key, canonical);
  std::string candidate;
  for (std::size_t chars = format.code_chars; chars <= 51; ++chars) {
    candidate = render_pseudonym(format, digest, chars);
    if (!state_->reverse.count(candidate)) break;
  }
  // 51 characters are 255 bits of the HMAC: a clash there is not a realistic event.
  state_->record(type_key, canonical, candidate);
  return candidate;
}

void Vault::assign(std::string_view type_key, std::string_view canonical, std::string_view pseudonym) {
  std::lock_guard lock(state_->mutex);
  const std::string key = forward_key(type_key, canonical);
  const std::string p(pseudonym);
  if (auto it = state_->forward.find(key); it != state_->forward.end()) {
    if (it->second == p) return;
    state_->reverse.erase(it->second);
  }
  if (auto it = state_->reverse.find(p); it != state_->reverse.end()) {
    state_->forward.erase(forward_key(it->second.type_key, it->second.canonical));
    state_->reverse.erase(it);
  }
  state_->record(type_key, canonical, p);
}

std::optional<VaultEntry> Vault::reidentify(std::string_view pseudonym) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->reverse.find(std::string(pseudonym));
  if (it == state_->reverse.end()) return std::nullopt;
  return it->second;
}

std::size_t Vault::size() const {
  std::lock_guard lock(state_->mutex);
  return state_->forward.size();
}

bool Vault::modified() const {
  std::lock_guard lock(state_->mutex);
  return state_->modified;
}

const std::filesystem::path& Vault::path() const { return state_->path; }

bool Vault::extends(const Vault& base) const {
  if (this == &base) return true;
  std::scoped_lock lock(state_->mutex, base.state_->mutex);
  if (!(state_->pseudonym_key == base.state_->pseudonym_key)) return false;
  for (const auto& [key, pseudonym] : base.state_->forward) {
    auto it = state_->forward.find(key);
    if (it == state_->forward.end() || it->second != pseudonym) return false;
  }
  return true;
}

std::string Vault::sealed() const {
  std::lock_guard lock(state_->mutex);
  WipedString plain{state_->serialize()};
  std::string box(kMagic);
  box.resize(kMagic.size() + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.bytes.size());
  auto* nonce = reinterpret_cast<unsigned char*>(box.data() + kMagic.size());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plain.bytes.data()), plain.bytes.size(),
                        nonce, state_->vault_key.data());
  return box;
}

Status Vault::save() {
  if (state_->path.empty()) return {};
  Status status = write_file_atomic(state_->path, sealed(), 0600);
  if (!status) return make_error("save vault: " + status.error().message);
  std::lock_guard lock(state_->mutex);
  state_->modified = false;
  return {};
}

}  // namespace cqda::anonymize
