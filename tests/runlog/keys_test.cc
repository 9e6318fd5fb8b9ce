#include "runlog/keys.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "common/hash.h"
#include "runlog_test_support.h"
#include "support/test_support.h"

namespace cqda::runlog {
namespace {

using cqda::test::TempDir;

unsigned file_mode(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

Ed25519Seed seed_from_hex(const std::string& hex) {
  std::string bytes;
  REQUIRE(from_hex(hex, bytes));
  Ed25519Seed seed{};
  std::memcpy(seed.data(), bytes.data(), seed.size());
  return seed;
}

TEST_CASE("signing is pure Ed25519 (RFC 8032 test vectors), not Ed25519ph", "[runlog][keys]") {
  struct Vector {
    std::string seed, public_key, message_hex, signature;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf"
       "9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f"
       "11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const auto& v : vectors) {
    Result<SigningKey> key = SigningKey::from_seed(seed_from_hex(v.seed));
    REQUIRE(key.ok());
    CHECK(to_hex(key->public_key().bytes) == v.public_key);
    std::string message;
    REQUIRE(from_hex(v.message_hex, message));
    const Ed25519Signature sig = key->sign(message);
    CHECK(to_hex(sig) == v.signature);
    CHECK(verify_signature(key->public_key(), message, sig));
    CHECK_FALSE(verify_signature(key->public_key(), message + "x", sig));
  }
}

TEST_CASE("key id is the first 8 bytes of SHA-256 of the raw public key", "[runlog][keys]") {
  SigningKey key = test::fixed_key();
  const PublicKey pk = key.public_key();
  const std::string raw(reinterpret_cast<const char*>(pk.bytes.data()), pk.bytes.size());
  CHECK(key_id(pk) == sha256_hex(raw).substr(0, 16));
  CHECK(key.id() == key_id(pk));
  CHECK(key_id(test::fixed_key(100).public_key()) != key_id(pk));
}

TEST_CASE("a moved-from signing key is empty", "[runlog][keys]") {
  SigningKey a = test::fixed_key();
  const PublicKey pk = a.public_key();
  SigningKey b = std::move(a);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  CHECK_FALSE(b.empty());
  CHECK(b.public_key() == pk);
  Result<SigningKey> fresh = SigningKey::generate();
  REQUIRE(fresh.ok());
  CHECK_FALSE(fresh->public_key() == pk);
}

TEST_CASE("write_keypair writes 0600 secret and 0644 public files that load back",
          "[runlog][keys]") {
  TempDir tmp;
  const mode_t old_umask = ::umask(077);  // fchmod must make the public key 0644 regardless
  Status written = write_keypair(tmp / "keys");
  ::umask(old_umask);
  REQUIRE(written.ok());
  CHECK(file_mode(tmp / "keys" / "signing.key") == 0600);
  CHECK(file_mode(tmp / "keys" / "signing.pub") == 0644);
  CHECK(file_mode(tmp / "keys") == 0700);

  const std::string secret_text = cqda::test::slurp(tmp / "keys" / "signing.key");
  CHECK(secret_text.rfind("cqda-ed25519-secret-v1 ", 0) == 0);
  CHECK(secret_text.size() == std::string("cqda-ed25519-secret-v1 ").size() + 64 + 1);
  const std::string public_text = cqda::test::slurp(tmp / "keys" / "signing.pub");
  CHECK(public_text.rfind("cqda-ed25519-public-v1 ", 0) == 0);

  Result<SigningKey> secret = load_signing_key(tmp / "keys" / "signing.key");
  REQUIRE(secret.ok());
  Result<PublicKey> pub = load_public_key(tmp / "keys" / "signing.pub");
  REQUIRE(pub.ok());
  CHECK(secret->public_key() == *pub);
  CHECK(format_public_key_file(*pub) == public_text);
}

TEST_CASE("write_keypair never overwrites a key", "[runlog][keys]") {
  TempDir tmp;
  REQUIRE(write_keypair(tmp.path()).ok());
  const std::string before = cqda::test::slurp(tmp / "signing.key");
  Status again = write_keypair(tmp.path());
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error().message, Catch::Contains("refusing to overwrite"));
  CHECK(cqda::test::slurp(tmp / "signing.key") == before);

  SECTION("an existing public key alone also stops it, leaving no new secret") {
    TempDir other;
    cqda::test::write_text(other / "signing.pub", "x\n");
    REQUIRE_FALSE(write_keypair(other.path()).ok());
    CHECK_FALSE(std::filesystem::exists(other / "signing.key"));
  }
  SECTION("a dangling symlink in place of the secret key is not followed") {
    TempDir other;
    std::filesystem::create_symlink(other / "elsewhere", other / "signing.key");
    REQUIRE_FALSE(write_keypair(other.path()).ok());
    CHECK_FALSE(std::filesystem::exists(other / "elsewhere"));
  }
}

TEST_CASE("load_signing_key refuses a key that group or other may read", "[runlog][keys]") {
  TempDir tmp;
  REQUIRE(write_keypair(tmp.path()).ok());
  const auto path = tmp / "signing.key";
  for (mode_t mode : {0640, 0644, 0604, 0620, 0601}) {
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    Result<SigningKey> key = load_signing_key(path);
    REQUIRE_FALSE(key.ok());
    CHECK_THAT(key.error().message, Catch::Contains("chmod 600 " + path.string()));
  }
  REQUIRE(::chmod(path.c_str(), 0400) == 0);
  CHECK(load_signing_key(path).ok());
}

TEST_CASE("only paths below /run/secrets/ are exempt from the mode rule", "[runlog][keys]") {
  CHECK(is_under_secrets_mount("/run/secrets/signing_key"));
  CHECK(is_under_secrets_mount("/run/secrets/sub/key"));
  CHECK_FALSE(is_under_secrets_mount("/run/secrets"));
  CHECK_FALSE(is_under_secrets_mount("/run/secrets/../../home/key"));
  CHECK_FALSE(is_under_secrets_mount("/run/secretsX/key"));
  CHECK_FALSE(is_under_secrets_mount("/home/run/secrets/key"));
}

TEST_CASE("key files in the wrong format are refused with a useful message", "[runlog][keys]") {
  TempDir tmp;
  REQUIRE(write_keypair(tmp.path()).ok());
  Result<PublicKey> secret_as_public = load_public_key(tmp / "signing.key");
  REQUIRE_FALSE(secret_as_public.ok());
  CHECK_THAT(secret_as_public.error().message, Catch::Contains("secret key file"));
  REQUIRE(::chmod((tmp / "signing.pub").c_str(), 0600) == 0);
  Result<SigningKey> public_as_secret = load_signing_key(tmp / "signing.pub");
  REQUIRE_FALSE(public_as_secret.ok());
  CHECK_THAT(public_as_secret.error().message, Catch::Contains("public key file"));

  CHECK_FALSE(parse_public_key_file("cqda-ed25519-public-v1 abcd\n", "t").ok());
  CHECK_FALSE(
      parse_public_key_file("cqda-ed25519-public-v1 " + std::string(64, 'g') + "\n", "t").ok());
  CHECK_FALSE(parse_public_key_file("ssh-ed25519 AAAA", "t").ok());
  CHECK_FALSE(parse_public_key_file("", "t").ok());
  const std::string good = format_public_key_file(test::fixed_key().public_key());
  CHECK(parse_public_key_file(good, "t").ok());
  CHECK(parse_public_key_file(good.substr(0, good.size() - 1) + "\r\n", "t").ok());
  CHECK_FALSE(parse_public_key_file(good + "trailing", "t").ok());

  cqda::test::write_text(tmp / "big.key", std::string(5000, 'x'));
  REQUIRE(::chmod((tmp / "big.key").c_str(), 0600) == 0);
  CHECK_FALSE(load_signing_key(tmp / "big.key").ok());
  CHECK_FALSE(load_signing_key(tmp / "missing.key").ok());
}

}  // namespace
}  // namespace cqda::runlog
