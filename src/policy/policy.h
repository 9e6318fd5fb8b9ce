// The declarative policy (schemas/policy.schema.json): which inputs may be read, how text is
// anonymized, where data may go, what an export must satisfy and how runs are audited.
// A Policy value is always valid: it is only produced by load_policy(), which validates the
// document against the schema and checks the rules a schema cannot express.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/json.h"
#include "common/result.h"

namespace cqda::policy {

// ---- paths -------------------------------------------------------------------------------
struct ArchiveLimits {
  std::uint32_t max_entries = 2000;               // zip entries in a docx/odt
  std::uint64_t max_uncompressed_bytes = 64u << 20;  // sum of declared sizes of all entries
};

struct PathPolicy {
  std::vector<std::string> include;  // globs relative to the input root ("**/*.txt")
  std::vector<std::string> exclude;  // globs; an excluded path is never read
  std::set<DocumentFormat> document_types;
  std::uint64_t max_file_bytes = 20u << 20;
  std::uint32_t max_files = 100000;
  std::uint32_t max_depth = 32;       // folder nesting below the input root
  ArchiveLimits archive;
};

// ---- anonymization -----------------------------------------------------------------------
enum class Action { kPseudonymize, kRedact, kGeneralize, kKeep };
std::string_view action_name(Action action);

// Entity types the anonymizer knows. Detectors and the roster produce these.
enum class EntityType {
  kPerson, kPlace, kOrg,                   // roster and name detection
  kEmail, kPhone, kUrl, kIp, kIban, kPaymentCard, kNationalId, kPostcode, kDateOfBirth,
  kHandle, kCustom,
};
std::string_view entity_type_name(EntityType type);  // "person", "email", "payment_card", ...
const std::vector<EntityType>& all_entity_types();

enum class Destination { kLlm, kMcp, kExport };
std::string_view destination_name(Destination destination);

struct CustomPattern {
  std::string name;     // shown in counts: "custom:<name>"
  std::string pattern;  // RE2 syntax; validated at load
  Action action = Action::kRedact;
};

struct NameDetection {
  bool gazetteer = true;  // given names and surnames from the bundled name lists
  bool context = true;    // speaker labels, titles (Dr., Mrs.), kinship words ("my sister X")
  std::vector<std::string> keep_words;  // names only with strong context ("May", "Will", ...)
};

struct AnonymizationPolicy {
  std::set<EntityType> detectors;           // enabled detectors (kPerson etc. = roster/names)
  std::map<EntityType, Action> actions;     // one action per entity type
  std::vector<CustomPattern> custom_patterns;
  NameDetection names;
  std::set<Destination> apply_to;           // destinations that only ever get anonymized text
  std::vector<std::string> national_id_countries;  // e.g. {"us-ssn", "uk-nino", "de-taxid", ...}
  Action action_for(EntityType type) const;
};

// ---- egress ------------------------------------------------------------------------------
struct Endpoint {
  std::string name;
  std::string scheme;  // "https", or "http" for an explicitly allowed loopback/private host
  std::string host;
  std::uint16_t port = 443;
  bool allow_private = false;  // loopback/private/link-local addresses allowed for this one
};

struct EgressPolicy {
  std::vector<Endpoint> endpoints;
  std::uint64_t token_budget = 0;  // per run; 0 means no LLM use at all
  bool allow_raw_text = false;     // may un-anonymized text ever leave (default: never)
};

// ---- export ------------------------------------------------------------------------------
enum class ExportFormat { kMarkdown, kJson, kCsv, kAnonymizedText, kQdpx };
std::string_view export_format_name(ExportFormat format);

struct ExportPolicy {
  std::set<ExportFormat> formats;
  bool require_anonymized = true;
  bool include_quotes = true;
  bool include_memos = true;
  bool include_case_attributes = true;
};

// ---- audit -------------------------------------------------------------------------------
enum class Signing { kAuto, kRequired, kOff };  // auto: sign when a key is present

struct AuditPolicy {
  Signing signing = Signing::kAuto;
  std::string key_id;  // expected key id ("" accepts any key)
};

struct Policy {
  PathPolicy paths;
  AnonymizationPolicy anonymization;
  EgressPolicy egress;
  ExportPolicy exports;
  AuditPolicy audit;
  Json effective;     // the validated document with defaults filled in, as `policy check` prints
  std::string sha256; // of the policy file's bytes
};

// Parses (comments allowed), validates against the schema and checks cross-field rules.
// On failure the Error lists every violation, one per line, each with its JSON pointer.
Result<Policy> load_policy_text(std::string_view text, std::string_view file_name);
Result<Policy> load_policy_file(const std::string& path);

// The bundled policy/default.json.
Policy default_policy();

}  // namespace cqda::policy
