// The anonymizer: raw text in, anonymized text out, under the policy's anonymization
// section. It runs inside the input reader process, before any text crosses a process
// boundary. See docs/ANONYMIZATION.md for what each detector matches and what it misses.
//
// Guarantees: a detected value is replaced whole (never a fragment left behind); replaced
// spans never overlap (the longer detection wins, ties by a fixed priority; a shorter one
// that sticks out of the winner is absorbed into it); the output is valid UTF-8 in NFC when
// the input is (invalid bytes in the input become U+FFFD).
//
// Thread safety: anonymize() and anonymize_speaker() may run on several threads at once;
// the vault is the only shared mutable state and it locks itself.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "anonymize/detectors.h"
#include "anonymize/gazetteer.h"
#include "anonymize/names.h"
#include "anonymize/roster.h"
#include "anonymize/vault.h"
#include "common/document.h"
#include "policy/policy.h"

namespace cqda::anonymize {

struct AnonymizedText {
  std::string text;
  // Replacements per entity type name ("email", "person", "custom:case_number"). Values the
  // policy says to `keep` are detected but not counted.
  std::map<std::string, std::size_t> counts;
};

class Anonymizer {
 public:
  // The vault must outlive the anonymizer. Roster entries with a chosen pseudonym are
  // recorded in the vault here. Custom patterns must compile (check_custom_patterns; the
  // policy loader checks them) — one that does not is reported by status() and matches
  // nothing, so a caller that skips the check fails closed only if it looks at status().
  Anonymizer(const policy::AnonymizationPolicy& policy, Roster roster, Gazetteer gazetteer, Vault& vault);
  ~Anonymizer();

  const Status& status() const { return detectors_.status(); }

  // Anonymizes free text. Voice tags (<v Maria>) are anonymized as speaker labels.
  // `learned` (optional): names learned so far in the same document, extended unless frozen.
  AnonymizedText anonymize(std::string_view text, LearnedNames* learned = nullptr);

  // A speaker label or voice-tag name: the whole label is a name candidate ("MARIA",
  // "Dr. Okafor" -> "Dr. Person-XXXX"); roles and ids stay ("Interviewer", "P03").
  AnonymizedText anonymize_speaker(std::string_view label, LearnedNames* learned = nullptr);

 private:
  AnonymizedText run(std::string_view text, bool speaker, LearnedNames* learned);
  std::string replacement(const Detection& d, std::string_view original, AnonymizedText& result);

  policy::AnonymizationPolicy policy_;
  Roster roster_;
  std::unique_ptr<Gazetteer> gazetteer_;  // stable address for the name finder
  Vault& vault_;
  PatternDetectors detectors_;
  NameFinder names_;
};

// Anonymizes every segment's text and speaker, then re-renders the document
// (render_document_text, which also recomputes the offsets); adds the counts into `counts`.
// Names learned from context anywhere in the document (LearnedNames) are replaced everywhere
// in it: when the first pass learns one, the document is anonymized again with them.
void anonymize_document(Document& document, Anonymizer& anonymizer,
                        std::map<std::string, std::size_t>& counts);

}  // namespace cqda::anonymize
