// The local CA and server certificate: the chain verifies, the names are exactly the
// expected ones, the key is private, the CA key is never written, nothing is overwritten.
#include "http/certs.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <memory>

#include "support/test_support.h"

using namespace cqda;
using namespace cqda::http;

namespace {

std::vector<X509*> read_certificates(const std::string& pem) {
  std::vector<X509*> out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) out.push_back(cert);
  BIO_free(bio);
  return out;
}

std::vector<std::string> alt_names(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type == GEN_DNS) {
      names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(
                                   ASN1_STRING_get0_data(name->d.dNSName))));
    } else if (name->type == GEN_IPADD) {
      names.push_back("IP:" + std::to_string(ASN1_STRING_length(name->d.iPAddress)) + "-bytes");
    }
  }
  GENERAL_NAMES_free(sans);
  return names;
}

}  // namespace

TEST_CASE(
    "write_certificates: a CA that verifies the server certificate for exactly the local names",
    "[http][certs]") {
  test::TempDir dir;
  auto files = write_certificates(dir / "certs");
  REQUIRE(files);
  auto ca = read_certificates(test::slurp(files->ca_certificate));
  auto chain = read_certificates(test::slurp(files->server_chain));
  REQUIRE(ca.size() == 1);
  REQUIRE(chain.size() == 2);  // leaf, then the CA
  CHECK(X509_cmp(chain[1], ca[0]) == 0);

  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca[0]);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, chain[0], nullptr);
  X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(ctx), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), "localhost", 0);
  CHECK(X509_verify_cert(ctx) == 1);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);

  CHECK(alt_names(chain[0]) ==
        std::vector<std::string>{"DNS:localhost", "IP:4-bytes", "IP:16-bytes"});
  CHECK(X509_check_ip_asc(chain[0], "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(chain[0], "::1", 0) == 1);
  CHECK(X509_check_host(chain[0], "example.com", 0, 0, nullptr) != 1);
  CHECK(X509_check_ca(ca[0]) >= 1);
  CHECK(X509_check_ca(chain[0]) == 0);
  CHECK((X509_get_extended_key_usage(chain[0]) & XKU_SSL_SERVER) != 0);
  CHECK((X509_get_key_usage(chain[0]) & KU_DIGITAL_SIGNATURE) != 0);
  CHECK((X509_get_key_usage(ca[0]) & KU_KEY_CERT_SIGN) != 0);
  int days = 0, seconds = 0;
  ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(chain[0]), X509_get0_notAfter(chain[0]));
  CHECK(days <= 826);
  ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(ca[0]), X509_get0_notAfter(ca[0]));
  CHECK(days <= 3651);
  CHECK(BN_num_bits(ASN1_INTEGER_to_BN(X509_get_serialNumber(ca[0]), nullptr)) > 64);
  CHECK(files->ca_fingerprint_sha256.size() == 32 * 3 - 1);
  for (X509* c : ca) X509_free(c);
  for (X509* c : chain) X509_free(c);

  struct stat st {};
  REQUIRE(stat(files->server_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "certs")) {
    ++count;
    CHECK(entry.path().filename().string().find("ca.key") == std::string::npos);
  }
  CHECK(count == 3);  // ca.crt, server.crt, server.key: no CA key, no temporary left
}

TEST_CASE("write_certificates refuses to overwrite unless told to", "[http][certs]") {
  test::TempDir dir;
  auto first = write_certificates(dir.path());
  REQUIRE(first);
  const std::string key = test::slurp(first->server_key);
  auto again = write_certificates(dir.path());
  REQUIRE_FALSE(again);
  CHECK(again.error().message.find("exists") != std::string::npos);
  CHECK(test::slurp(first->server_key) == key);
  auto forced = write_certificates(dir.path(), Overwrite::kReplace);
  REQUIRE(forced);
  CHECK(test::slurp(forced->server_key) != key);
  CHECK(forced->ca_fingerprint_sha256 != first->ca_fingerprint_sha256);
  CHECK_FALSE(make_certificates({{"bad,name"}, {}}));
  CHECK_FALSE(make_certificates({{}, {"not-an-ip"}}));
  auto extra = make_certificates({{"evil.example.com"}, {"10.0.0.1"}});
  REQUIRE(extra);
}
