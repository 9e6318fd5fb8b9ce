#include "http/certs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>
#include <utility>

#include "common/fd.h"
#include "common/files.h"
#include "http/openssl_ptr.h"
#include "http/tls.h"

namespace cqda::http {
namespace {

constexpr long kCaDays = 3650;
constexpr long kServerDays =
    825;  // the most that Apple platforms accept for a TLS server certificate
constexpr long kBackdateSeconds = 300;  // tolerates a clock a little behind

Error fail(const std::string& what) {
  return make_error("certificates: " + what + ": " + openssl_errors());
}

Result<KeyPtr> new_p256_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail("EC P-256 key generation");
  return key;
}

struct CertificateSpec {
  std::string common_name;
  long days = 0;
  // (NID, value in OpenSSL's extension configuration syntax), added in order.
  std::vector<std::pair<int, std::string>> extensions;
};

// Issues a certificate for `subject_key`, signed by `issuer_key`; `issuer` null means
// self-signed.
Result<CertPtr> issue(const CertificateSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                      EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return fail("X509_new");
  std::array<unsigned char, 16> serial_bytes{};
  if (RAND_bytes(serial_bytes.data(), static_cast<int>(serial_bytes.size())) != 1)
    return fail("serial number");
  BignumPtr serial(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    return fail("serial number");
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(spec.days), 0, nullptr))
    return fail("validity");
  NamePtr name(X509_NAME_new());
  auto* cn = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
  if (!name ||
      X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("cqda"), -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1)
    return fail("subject name");
  if (X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name.get()) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1)
    return fail("names and public key");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : spec.extensions) {
    ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
      return fail(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return fail("signing");
  return cert;
}

Result<std::string> drain(BIO* bio) {
  BUF_MEM* memory = nullptr;
  BIO_get_mem_ptr(bio, &memory);
  if (!memory) return fail("PEM buffer");
  return std::string(memory->data, memory->length);
}

Result<std::string> certificate_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return fail("PEM encoding");
  return drain(bio.get());
}

Result<std::string> key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail("PEM encoding");
  return drain(bio.get());
}

Result<std::string> fingerprint(X509* cert) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned length = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &length) != 1) return fail("fingerprint");
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    if (i) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// The subjectAltName value; extra names are checked so that none can smuggle a ',' or ':'
// into OpenSSL's configuration syntax.
Result<std::string> subject_alt_names(const CertificateOptions& options) {
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const auto& dns : options.extra_dns_names) {
    bool valid =
        !dns.empty() && dns.size() <= 253 && std::all_of(dns.begin(), dns.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '*';
        });
    if (!valid) return make_error("certificates: '" + dns + "' is not a DNS name");
    san += ",DNS:" + dns;
  }
  for (const auto& ip : options.extra_ip_addresses) {
    unsigned char buffer[sizeof(in6_addr)];
    if (inet_pton(AF_INET, ip.c_str(), buffer) != 1 && inet_pton(AF_INET6, ip.c_str(), buffer) != 1)
      return make_error("certificates: '" + ip + "' is not an IP address");
    san += ",IP:" + ip;
  }
  return san;
}

// Writes `content` to dir/name through a temporary file; with kRefuse the rename fails rather
// than replace a file that exists.
Status write_file(const std::filesystem::path& dir, const std::string& name,
                  std::string_view content, mode_t mode, Overwrite overwrite) {
  const std::filesystem::path target = dir / name;
  std::string tmp = (dir / ("." + name + ".tmp-XXXXXX")).string();
  UniqueFd fd(::mkstemp(tmp.data()));  // mode 0600 from the start
  if (!fd.valid()) return make_error("create(" + tmp + "): " + errno_text(errno));
  auto failed = [&](const std::string& op) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(op + "(" + target.string() + "): " + errno_text(err));
  };
  if (::fchmod(fd.get(), mode) != 0) return failed("fchmod");
  for (std::size_t done = 0; done < content.size();) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return failed("fsync");
  fd.reset();
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(),
                  overwrite == Overwrite::kRefuse ? RENAME_NOREPLACE : 0) != 0)
    return failed("rename");
  return {};
}

}  // namespace

Result<CertificateSet> make_certificates(const CertificateOptions& options) {
  if (auto status = init_openssl(); !status) return status.error();
  auto san = subject_alt_names(options);
  if (!san) return san.error();
  auto ca_key = new_p256_key();
  auto server_key = new_p256_key();
  if (!ca_key) return ca_key.error();
  if (!server_key) return server_key.error();

  CertificateSpec ca_spec{"cqda local CA",
                          kCaDays,
                          {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                           {NID_key_usage, "critical,keyCertSign,cRLSign"},
                           {NID_subject_key_identifier, "hash"},
                           {NID_authority_key_identifier, "keyid:always"}}};
  auto ca = issue(ca_spec, ca_key->get(), nullptr, ca_key->get());
  if (!ca) return ca.error();
  CertificateSpec server_spec{"localhost",
                              kServerDays,
                              {{NID_basic_constraints, "critical,CA:FALSE"},
                               {NID_key_usage, "critical,digitalSignature"},
                               {NID_ext_key_usage, "serverAuth"},
                               {NID_subject_alt_name, *san},
                               {NID_subject_key_identifier, "hash"},
                               {NID_authority_key_identifier, "keyid:always"}}};
  auto server = issue(server_spec, server_key->get(), ca->get(), ca_key->get());
  if (!server) return server.error();
  ca_key->reset();  // the CA's key signs nothing else, ever

  CertificateSet out;
  auto ca_pem = certificate_pem(ca->get());
  auto server_pem = certificate_pem(server->get());
  auto key = key_pem(server_key->get());
  auto print = fingerprint(ca->get());
  if (!ca_pem) return ca_pem.error();
  if (!server_pem) return server_pem.error();
  if (!key) return key.error();
  if (!print) return print.error();
  out.ca_certificate = std::move(*ca_pem);
  out.server_chain = *server_pem + out.ca_certificate;
  out.server_key = std::move(*key);
  out.ca_fingerprint_sha256 = std::move(*print);
  return out;
}

Result<CertificateFiles> write_certificates(const std::filesystem::path& out_dir,
                                            Overwrite overwrite,
                                            const CertificateOptions& options) {
  CertificateFiles files{out_dir / "ca.crt", out_dir / "server.crt", out_dir / "server.key", {}};
  std::error_code ec;
  if (!std::filesystem::exists(out_dir, ec)) {
    if (!std::filesystem::create_directories(out_dir, ec) || ec)
      return make_error("create_directories(" + out_dir.string() + "): " + ec.message());
    std::filesystem::permissions(out_dir, std::filesystem::perms::owner_all, ec);
  }
  if (overwrite == Overwrite::kRefuse) {
    for (const auto& path : {files.ca_certificate, files.server_chain, files.server_key}) {
      if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found)
        return make_error(path.string() +
                          " exists; not replaced (force overwriting to make new certificates)");
    }
  }
  auto set = make_certificates(options);
  if (!set) return set.error();
  // The key first: a certificate on disk without its key would be useless.
  if (auto s = write_file(out_dir, "server.key", set->server_key, 0600, overwrite); !s)
    return s.error();
  if (auto s = write_file(out_dir, "server.crt", set->server_chain, 0644, overwrite); !s)
    return s.error();
  if (auto s = write_file(out_dir, "ca.crt", set->ca_certificate, 0644, overwrite); !s)
    return s.error();
  UniqueFd dir(::open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  files.ca_fingerprint_sha256 = std::move(set->ca_fingerprint_sha256);
  return files;
}

}  // namespace cqda::http
