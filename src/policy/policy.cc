#include "policy/policy.h"

#include <re2/re2.h>

#include <array>
#include <stdexcept>
#include <utility>

#include "common/files.h"
#include "common/hash.h"
#include "policy/glob.h"
#include "resources/resources.h"

namespace cqda::policy {
namespace {

constexpr std::array<std::pair<Action, std::string_view>, 4> kActions{{
    {Action::kPseudonymize, "pseudonymize"},
    {Action::kRedact, "redact"},
    {Action::kGeneralize, "generalize"},
    {Action::kKeep, "keep"},
}};

constexpr std::array<std::pair<EntityType, std::string_view>, 14> kEntityTypes{{
    {EntityType::kPerson, "person"},         {EntityType::kPlace, "place"},
    {EntityType::kOrg, "org"},               {EntityType::kEmail, "email"},
    {EntityType::kPhone, "phone"},           {EntityType::kUrl, "url"},
    {EntityType::kIp, "ip"},                 {EntityType::kIban, "iban"},
    {EntityType::kPaymentCard, "payment_card"}, {EntityType::kNationalId, "national_id"},
    {EntityType::kPostcode, "postcode"},     {EntityType::kDateOfBirth, "date_of_birth"},
    {EntityType::kHandle, "handle"},         {EntityType::kCustom, "custom"},
}};

constexpr std::array<std::pair<Destination, std::string_view>, 3> kDestinations{{
    {Destination::kLlm, "llm"}, {Destination::kMcp, "mcp"}, {Destination::kExport, "export"}}};

constexpr std::array<std::pair<ExportFormat, std::string_view>, 5> kExportFormats{{
    {ExportFormat::kMarkdown, "markdown"},
    {ExportFormat::kJson, "json"},
    {ExportFormat::kCsv, "csv"},
    {ExportFormat::kAnonymizedText, "anonymized_text"},
    {ExportFormat::kQdpx, "qdpx"},
}};

constexpr std::array<std::pair<Signing, std::string_view>, 3> kSigning{{
    {Signing::kAuto, "auto"}, {Signing::kRequired, "required"}, {Signing::kOff, "off"}}};

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  throw std::logic_error("enum value without a name");
}

// Only called on schema-validated documents, so an unknown name is a programming error.
template <typename Enum, std::size_t N>
Enum value_of(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view name) {
  for (const auto& [v, n] : table)
    if (n == name) return v;
  throw std::logic_error("unknown name after schema validation: " + std::string(name));
}

const Json& schema() {
  static const Json parsed = Json::parse(resources::get("schemas/policy.schema.json"));
  return parsed;
}

std::vector<std::string> strings(const Json& array) {
  std::vector<std::string> out;
  for (const auto& item : array) out.push_back(item.get<std::string>());
  return out;
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// Rules a JSON Schema cannot express. Appends violations with their pointers.
void check_semantics(const Json& doc, std::vector<SchemaViolation>& violations) {
  for (const char* list : {"include", "exclude"}) {
    if (!doc["paths"].contains(list)) continue;
    for (std::size_t i = 0; i < doc["paths"][list].size(); ++i) {
      if (auto problem = glob_syntax_error(doc["paths"][list][i].get<std::string>()))
        violations.push_back({"/paths/" + std::string(list) + "/" + std::to_string(i), *problem});
    }
  }
  const Json& anon = doc["anonymization"];
  if (anon.contains("custom_patterns")) {
    for (std::size_t i = 0; i < anon["custom_patterns"].size(); ++i) {
      const std::string pattern = anon["custom_patterns"][i]["pattern"].get<std::string>();
      RE2::Options options;
      options.set_log_errors(false);
      RE2 re(pattern, options);
      if (!re.ok()) {
        violations.push_back({"/anonymization/custom_patterns/" + std::to_string(i) + "/pattern",
                              "not a valid RE2 pattern: " + re.error()});
      } else if (RE2::FullMatch("", re)) {
        violations.push_back({"/anonymization/custom_patterns/" + std::to_string(i) + "/pattern",
                              "pattern matches the empty string"});
      }
    }
  }
  auto applies_to = [&](std::string_view destination) {
    for (const auto& d : anon["apply_to"])
      if (d.get<std::string>() == destination) return true;
    return false;
  };
  if (doc["export"]["require_anonymized"].get<bool>() && !applies_to("export")) {
    violations.push_back({"/anonymization/apply_to",
                          "export.require_anonymized is true, so apply_to must include \"export\""});
  }
  if (!doc["egress"]["allow_raw_text"].get<bool>() && !applies_to("llm")) {
    violations.push_back({"/anonymization/apply_to",
                          "egress.allow_raw_text is false, so apply_to must include \"llm\""});
  }
  const Json& endpoints = doc["egress"]["endpoints"];
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const Json& e = endpoints[i];
    if (e["scheme"] == "http" && !e.value("allow_private", false)) {
      violations.push_back({"/egress/endpoints/" + std::to_string(i) + "/scheme",
                            "plain http is only allowed for an endpoint with allow_private: true "
                            "(a loopback or private host such as a compose-network Ollama)"});
    }
    if (is_loopback_host(e["host"].get<std::string>()) && !e.value("allow_private", false)) {
      violations.push_back({"/egress/endpoints/" + std::to_string(i) + "/host",
                            "a loopback host needs allow_private: true"});
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (endpoints[j]["name"] == e["name"])
        violations.push_back({"/egress/endpoints/" + std::to_string(i) + "/name", "duplicate endpoint name"});
    }
  }
}

Policy build(const Json& doc) {
  Policy p;
  const Json& paths = doc["paths"];
  p.paths.include = strings(paths["include"]);
  if (paths.contains("exclude")) p.paths.exclude = strings(paths["exclude"]);
  if (paths.contains("document_types")) {
    for (const auto& t : paths["document_types"])
      p.paths.document_types.insert(*format_from_name(t.get<std::string>()));
  } else {
    for (auto f : {DocumentFormat::kText, DocumentFormat::kMarkdown, DocumentFormat::kDocx,
                   DocumentFormat::kOdt, DocumentFormat::kVtt, DocumentFormat::kSrt, DocumentFormat::kCsv})
      p.paths.document_types.insert(f);
  }
  p.paths.max_file_bytes = paths.value("max_file_bytes", p.paths.max_file_bytes);
  p.paths.max_files = paths.value("max_files", p.paths.max_files);
  p.paths.max_depth = paths.value("max_depth", p.paths.max_depth);
  if (paths.contains("archive")) {
    p.paths.archive.max_entries = paths["archive"].value("max_entries", p.paths.archive.max_entries);
    p.paths.archive.max_uncompressed_bytes =
        paths["archive"].value("max_uncompressed_bytes", p.paths.archive.max_uncompressed_bytes);
  }

  const Json& anon = doc["anonymization"];
  for (const auto& d : anon["detectors"]) p.anonymization.detectors.insert(value_of(kEntityTypes, d.get<std::string>()));
  for (const auto& [type, name] : kEntityTypes) {
    p.anonymization.actions[type] = anon["actions"].contains(name)
                                        ? value_of(kActions, anon["actions"][std::string(name)].get<std::string>())
                                        : Action::kPseudonymize;
  }
  if (anon.contains("custom_patterns")) {
    for (const auto& c : anon["custom_patterns"]) {
      p.anonymization.custom_patterns.push_back(
          {c["name"].get<std::string>(), c["pattern"].get<std::string>(),
           c.contains("action") ? value_of(kActions, c["action"].get<std::string>())
                                : p.anonymization.actions[EntityType::kCustom]});
    }
  }
  if (anon.contains("names")) {
    const Json& n = anon["names"];
    p.anonymization.names.gazetteer = n.value("gazetteer", true);
    p.anonymization.names.context = n.value("context", true);
    if (n.contains("keep_words")) p.anonymization.names.keep_words = strings(n["keep_words"]);
  }
  for (const auto& d : anon["apply_to"]) p.anonymization.apply_to.insert(value_of(kDestinations, d.get<std::string>()));
  p.anonymization.national_id_countries =
      anon.contains("national_ids") ? strings(anon["national_ids"])
                                    : std::vector<std::string>{"uk-nino", "us-ssn", "es-dni"};

  const Json& egress = doc["egress"];
  for (const auto& e : egress["endpoints"]) {
    p.egress.endpoints.push_back({e["name"].get<std::string>(), e["scheme"].get<std::string>(),
                                  e["host"].get<std::string>(), e["port"].get<std::uint16_t>(),
                                  e.value("allow_private", false)});
  }
  p.egress.token_budget = egress.value("token_budget", std::uint64_t{0});
  p.egress.allow_raw_text = egress["allow_raw_text"].get<bool>();

  const Json& exp = doc["export"];
  for (const auto& f : exp["formats"]) p.exports.formats.insert(value_of(kExportFormats, f.get<std::string>()));
  p.exports.require_anonymized = exp["require_anonymized"].get<bool>();
  if (exp.contains("include")) {
    p.exports.include_quotes = exp["include"].value("quotes", true);
    p.exports.include_memos = exp["include"].value("memos", true);
    p.exports.include_case_attributes = exp["include"].value("case_attributes", true);
  }

  const Json& audit = doc["audit"];
  p.audit.signing = value_of(kSigning, audit.value("signing", std::string("auto")));
  p.audit.key_id = audit.value("key_id", std::string());
  return p;
}

Json to_effective_json(const Policy& p, const Json& doc) {
  Json out;
  out["version"] = 1;
  if (doc.contains("description")) out["description"] = doc["description"];
  Json& paths = out["paths"];
  paths["include"] = p.paths.include;
  paths["exclude"] = p.paths.exclude;
  paths["document_types"] = Json::array();
  for (auto f : p.paths.document_types) paths["document_types"].push_back(format_name(f));
  paths["max_file_bytes"] = p.paths.max_file_bytes;
  paths["max_files"] = p.paths.max_files;
  paths["max_depth"] = p.paths.max_depth;
  paths["archive"] = {{"max_entries", p.paths.archive.max_entries},
                      {"max_uncompressed_bytes", p.paths.archive.max_uncompressed_bytes}};
  paths["follow_symlinks"] = false;
  paths["read_hidden"] = false;

  Json& anon = out["anonymization"];
  anon["detectors"] = Json::array();
  for (auto t : p.anonymization.detectors) anon["detectors"].push_back(entity_type_name(t));
  for (const auto& [type, action] : p.anonymization.actions)
    anon["actions"][std::string(entity_type_name(type))] = action_name(action);
  anon["custom_patterns"] = Json::array();
  for (const auto& c : p.anonymization.custom_patterns)
    anon["custom_patterns"].push_back({{"name", c.name}, {"pattern", c.pattern}, {"action", action_name(c.action)}});
  anon["names"] = {{"gazetteer", p.anonymization.names.gazetteer},
                   {"context", p.anonymization.names.context},
                   {"keep_words", p.anonymization.names.keep_words}};
  anon["apply_to"] = Json::array();
  for (auto d : p.anonymization.apply_to) anon["apply_to"].push_back(destination_name(d));
  anon["national_ids"] = p.anonymization.national_id_countries;

  Json& egress = out["egress"];
  egress["endpoints"] = Json::array();
  for (const auto& e : p.egress.endpoints)
    egress["endpoints"].push_back({{"name", e.name}, {"scheme", e.scheme}, {"host", e.host},
                                   {"port", e.port}, {"allow_private", e.allow_private}});
  egress["token_budget"] = p.egress.token_budget;
  egress["allow_raw_text"] = p.egress.allow_raw_text;

  Json& exp = out["export"];
  exp["formats"] = Json::array();
  for (auto f : p.exports.formats) exp["formats"].push_back(export_format_name(f));
  exp["require_anonymized"] = p.exports.require_anonymized;
  exp["include"] = {{"quotes", p.exports.include_quotes},
                    {"memos", p.exports.include_memos},
                    {"case_attributes", p.exports.include_case_attributes}};
  exp["schema_validation"] = true;

  out["audit"] = {{"signing", name_of(kSigning, p.audit.signing)}, {"key_id", p.audit.key_id}};
  return out;
}

}  // namespace

std::string_view action_name(Action action) { return name_of(kActions, action); }
std::string_view entity_type_name(EntityType type) { return name_of(kEntityTypes, type); }
std::string_view destination_name(Destination destination) { return name_of(kDestinations, destination); }
std::string_view export_format_name(ExportFormat format) { return name_of(kExportFormats, format); }

const std::vector<EntityType>& all_entity_types() {
  static const std::vector<EntityType> types = [] {
    std::vector<EntityType> out;
    for (const auto& [v, n] : kEntityTypes) out.push_back(v);
    return out;
  }();
  return types;
}

Action AnonymizationPolicy::action_for(EntityType type) const {
  auto it = actions.find(type);
  return it == actions.end() ? Action::kPseudonymize : it->second;
}

Result<Policy> load_policy_text(std::string_view text, std::string_view file_name) {
  auto parsed = parse_json(text, file_name, JsonLimits{1u << 20, 32, /*allow_comments=*/true});
  if (!parsed) return parsed.error();
  const Json& doc = *parsed;
  std::vector<SchemaViolation> violations = validate_against_schema(schema(), doc);
  if (violations.empty()) check_semantics(doc, violations);
  if (!violations.empty()) {
    return make_error(std::string(file_name) + ": the policy is invalid (" +
                      std::to_string(violations.size()) + " violation" +
                      (violations.size() == 1 ? "" : "s") + "):\n" + format_violations(violations));
  }
  Policy policy = build(doc);
  policy.effective = to_effective_json(policy, doc);
  policy.sha256 = sha256_hex(text);
  return policy;
}

Result<Policy> load_policy_file(const std::string& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return make_error("cannot read the policy: " + text.error().message);
  return load_policy_text(*text, path);
}

Policy default_policy() {
  auto policy = load_policy_text(resources::get("policy/default.json"), "policy/default.json");
  if (!policy) throw std::logic_error("the bundled default policy is invalid: " + policy.error().message);
  return std::move(policy).value();
}

}  // namespace cqda::policy
