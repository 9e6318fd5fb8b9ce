#include "pipeline/reader_session.h"

#include <algorithm>
#include <future>
#include <thread>

namespace cqda::pipeline {

Result<Anonymization> open_anonymization(const Config& config, const ProjectOptions& options) {
  const auto& policy = config.policy.anonymization;
  // The name lists are indexed on a thread of their own while the vault is read and decrypted
  // (tens of milliseconds each, before any document can be read). Joined before this returns,
  // so the process has one thread again when the reader is forked.
  auto gazetteer = std::async(std::launch::async, [gazetteer = policy.names.gazetteer] {
    return gazetteer ? anonymize::Gazetteer::bundled() : anonymize::Gazetteer();
  });
  auto key = vault_key_for(options);
  if (!key) return make_error("cannot load the vault key: " + key.error().message);
  auto vault = anonymize::Vault::open(options.cache / "pseudonyms.vault", *key);
  if (!vault) return make_error("cannot open the pseudonym vault: " + vault.error().message);
  Anonymization a{*key, std::make_unique<anonymize::Vault>(std::move(vault).value()), nullptr};
  a.anonymizer = std::make_unique<anonymize::Anonymizer>(policy, config.roster, gazetteer.get(), *a.vault);
  // A custom pattern that does not compile would match nothing: fail closed.
  if (!a.anonymizer->status()) return a.anonymizer->status().error();
  return a;
}

unsigned reader_threads() { return std::clamp(std::thread::hardware_concurrency(), 1u, 8u); }

Result<std::unique_ptr<privsep::ReaderClient>> start_reader(Config& config, Anonymization& anonymization,
                                                             ingest::InputRoot root, unsigned threads) {
  privsep::ReaderSetup setup;
  setup.policy = &config.policy;
  setup.roster = &config.roster;
  setup.anonymizer = anonymization.anonymizer.get();
  setup.vault = anonymization.vault.get();
  setup.root = &root;
  setup.threads = threads;
  setup.drop_secrets = [&config] { config.signing_key.reset(); };
  return privsep::ReaderClient::start(setup);
  // `root` closes here: only the reader holds the input now.
}

Result<anonymize::Vault> take_back_vault(privsep::ReaderClient& reader, const Anonymization& anonymization) {
  auto sealed = reader.export_vault();
  if (!sealed) return sealed.error();
  auto vault = anonymize::Vault::from_sealed(*sealed, anonymization.key, anonymization.vault->path());
  if (!vault) return make_error("the reader's vault does not open: " + vault.error().message);
  // The reader may only add pseudonyms: a vault with another pseudonym key, or with a mapping
  // changed or gone, would let a compromised reader rewrite re-identification for every run.
  if (!vault->extends(*anonymization.vault))
    return make_error("the reader handed back a vault that changes existing pseudonyms; it was not saved");
  if (auto st = reader.finish(); !st) return st.error();
  return vault;
}

}  // namespace cqda::pipeline
