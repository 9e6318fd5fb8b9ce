#include "export/exporter.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <future>
#include <optional>
#include <span>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <sstream>

#include "common/csv.h"
#include "common/json_text.h"
#include "common/utf8.h"
#include "export/analysis.h"
#include "export/coding_json.h"
#include "export/markdown.h"
#include "resources/resources.h"

namespace cqda::exporter {
namespace {

constexpr std::size_t kExcerptsPerCode = 12;
constexpr std::size_t kTopPairs = 15;

const SchemaValidator& validator(const std::string& schema) {
  // Recursive: a subschema validator is made from its schema's validator.
  static std::recursive_mutex mutex;
  static std::map<std::string, std::unique_ptr<SchemaValidator>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[schema];
  if (!slot) {
    auto slash = schema.find('#');
    if (slash == std::string::npos) {
      slot = std::make_unique<SchemaValidator>(Json::parse(resources::get("schemas/" + schema)));
    } else {
      slot = std::make_unique<SchemaValidator>(validator(schema.substr(0, slash)).subschema(schema.substr(slash + 1)));
    }
  }
  return *slot;
}

Status validation_error(const std::string& file, const std::string& schema, const std::vector<SchemaViolation>& violations) {
  return make_error("export " + file + " does not conform to schemas/" + schema + ":\n" +
                    format_violations(violations) + "nothing was written");
}

// Validates `document` (to be written as `file`) against schemas/<schema>.
Status validate_export(const std::string& file, const std::string& schema, const Json& document) {
  auto violations = validator(schema).validate(document);
  if (violations.empty()) return {};
  return validation_error(file, schema, violations);
}

std::unordered_map<std::string_view, std::vector<const coder::Coding*>> codings_by_document(
    const std::vector<coder::Coding>& codings) {
  std::unordered_map<std::string_view, std::vector<const coder::Coding*>> out;
  std::vector<const coder::Coding*>* current = nullptr;
  const coder::Coding* previous = nullptr;
  for (const auto& c : codings) {
    // Codings come grouped by document: look the document up once per run of them.
    if (!previous || previous->document_id != c.document_id) current = &out[c.document_id];
    current->push_back(&c);
    previous = &c;
  }
  return out;
}

std::string code_label(const codebook::Codebook& book, std::string_view id) {
  const codebook::Code* code = book.find(id);
  return code ? code->name : std::string(id);
}

// Words: runs of bytes other than space, tab and newline. A word starts at each such byte
// that follows one of them (or starts the text). Eight bytes at a time: every document's text
// is counted, tens of megabytes in all.
std::size_t word_count(std::string_view text) {
  constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7Full, kOnes = 0x0101010101010101ull;
  // 0x80 in each byte of `v` that is zero, 0 elsewhere (exact, no borrow between bytes).
  auto zero_bytes = [](std::uint64_t v) { return ~(((v & kLow7) + kLow7) | v | kLow7); };
  auto spaces = [&](std::uint64_t w) {
    return zero_bytes(w ^ (' ' * kOnes)) | zero_bytes(w ^ ('\n' * kOnes)) | zero_bytes(w ^ ('\t' * kOnes));
  };
  auto space = [](unsigned char c) -> unsigned { return c == ' ' || c == '\n' || c == '\t'; };
  std::size_t words = 0, i = 0;
  std::uint64_t before = 0x80;  // "a space before the text": bit 7 of the byte before byte 0
  // The shifts take the byte before as the next lower one: little-endian words only.
  for (; std::endian::native == std::endian::little && i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, sizeof w);
    const std::uint64_t s = spaces(w);
    const std::uint64_t starts = ~s & ((s << 8) | before) & (0x80 * kOnes);
    words += static_cast<std::size_t>(((starts >> 7) * kOnes) >> 56);
    before = s >> 56;
  }
  unsigned previous = before ? 1u : 0u;
  for (; i < text.size(); ++i) {
    const unsigned here = space(static_cast<unsigned char>(text[i]));
    words += previous & (here ^ 1u);
    previous = here;
  }
  return words;
}

std::string segment_ref(const coder::Coding& c) {
  auto dot = c.segment_id.rfind(".s");
  return c.document_id + ", segment " + (dot == std::string::npos ? c.segment_id : c.segment_id.substr(dot + 2));
}

}  // namespace

// What report.md and codings.json say about each document, and the counts over the codings,
// gathered as documents and codings arrive: nothing here grows with the number of codings
// except the counters, so a streamed export keeps no corpus in memory.
class ReportTally {
 public:
  struct DocumentStats {
    std::string id, path, sha256;
    DocumentFormat format = DocumentFormat::kText;
    std::size_t segments = 0, words = 0, code_points = 0;
  };
  struct Excerpt {
    std::string quote, ref, coder;
  };
  struct CodeExcerpts {
    std::vector<Excerpt> first;  // at most kExcerptsPerCode, in coding order
    std::size_t total = 0;
  };

  void add_document(const Document& d) {
    documents_.push_back({d.id, d.relative_path, d.sha256, d.format, d.segments.size(), word_count(d.text),
                          utf8::length(d.text)});
  }

  // Every coding of a segment, and of a document, must come in the same call: the segments
  // and documents of a code are counted within each call and then summed.
  void add_codings(std::span<const coder::Coding> codings) {
    if (codings.empty()) return;
    codings_ += codings.size();
    const CodingIndex index(codings);
    for (const auto& [code, f] : code_frequencies(index)) {
      CodeFrequency& total = frequencies_[code];
      total.codings += f.codings;
      total.segments += f.segments;
      total.documents += f.documents;
    }
    for (const auto& [document, codes] : code_matrix(index))
      for (const auto& [code, n] : codes) matrix_[document][code] += n;
    for (const auto& pair : code_cooccurrence(index)) pairs_[{pair.first, pair.second}] += pair.segments;
    CodeExcerpts* current = nullptr;
    const coder::Coding* previous = nullptr;
    for (const auto& c : codings) {
      if (!previous || previous->code_id != c.code_id) current = &excerpts_[c.code_id];
      if (current->first.size() < kExcerptsPerCode) current->first.push_back({c.quote, segment_ref(c), c.coder});
      ++current->total;
      previous = &c;
    }
  }

  const std::vector<DocumentStats>& documents() const { return documents_; }
  std::size_t codings() const { return codings_; }
  const std::map<std::string, CodeFrequency>& frequencies() const { return frequencies_; }
  const std::map<std::string, std::map<std::string, std::size_t>>& matrix() const { return matrix_; }
  const std::map<std::string, CodeExcerpts>& excerpts() const { return excerpts_; }

  // Most frequent first; ties in the order of the ids.
  std::vector<CodePair> pairs() const {
    std::vector<CodePair> out;
    out.reserve(pairs_.size());
    for (const auto& [key, n] : pairs_) out.push_back({key.first, key.second, n});
    std::stable_sort(out.begin(), out.end(), [](const CodePair& a, const CodePair& b) { return a.segments > b.segments; });
    return out;
  }

 private:
  std::vector<DocumentStats> documents_;
  std::size_t codings_ = 0;
  std::map<std::string, CodeFrequency> frequencies_;
  std::map<std::string, std::map<std::string, std::size_t>> matrix_;
  std::map<std::pair<std::string, std::string>, std::size_t> pairs_;
  std::map<std::string, CodeExcerpts> excerpts_;
};

namespace {

void render_overview(std::ostringstream& out, const ExportInput& in, const ReportTally& tally) {
  const auto& docs = tally.documents();
  std::size_t segments = 0, words = 0;
  for (const auto& d : docs) {
    segments += d.segments;
    words += d.words;
  }
  out << "## Corpus overview\n\n"
      << docs.size() << " documents, " << segments << " segments, " << words << " words, "
      << tally.codings() << " codings.\n\n"
      << "| Document | Path | Format | Segments | Words | Codings |\n|---|---|---|---:|---:|---:|\n";
  for (const auto& d : docs) {
    std::size_t n = 0;
    if (auto it = tally.matrix().find(d.id); it != tally.matrix().end())
      for (const auto& [code, count] : it->second) n += count;
    out << "| `" << d.id << "` | " << md::escape_inline(d.path) << " | " << format_name(d.format) << " | "
        << d.segments << " | " << d.words << " | " << n << " |\n";
  }
  out << "\n";
  if (!in.skipped.empty()) {
    out << "### Inputs that could not be processed\n\n";
    for (const auto& s : in.skipped) out << "- " << md::escape_inline(s.path) << ": " << md::escape_inline(s.reason) << "\n";
    out << "\n";
  }
  if (!in.refused.empty()) {
    out << "### Inputs refused by the path policy\n\n";
    for (const auto& s : in.refused) out << "- " << md::escape_inline(s.path) << ": " << md::escape_inline(s.reason) << "\n";
    out << "\n";
  }
  if (in.policy->exports.include_case_attributes && !in.cases.empty()) {
    std::set<std::string> columns;
    for (const auto& [path, attrs] : in.cases)
      for (const auto& [k, v] : attrs) columns.insert(k);
    out << "### Case attributes\n\n| Document |";
    for (const auto& c : columns) out << " " << md::escape_inline(c) << " |";
    out << "\n|---|";
    for (std::size_t i = 0; i < columns.size(); ++i) out << "---|";
    out << "\n";
    for (const auto& d : docs) {
      auto it = in.cases.find(d.path);
      if (it == in.cases.end()) continue;
      out << "| `" << d.id << "` |";
      for (const auto& c : columns) {
        auto v = it->second.find(c);
        out << " " << (v == it->second.end() ? "" : md::escape_inline(v->second)) << " |";
      }
      out << "\n";
    }
    out << "\n";
  }
}

void render_anonymization(std::ostringstream& out, const ExportInput& in) {
  out << "## Anonymization\n\n";
  if (!in.anonymized) {
    out << "**The texts in this export are NOT anonymized** (the policy allows raw text in exports).\n\n";
    return;
  }
  std::size_t total = 0;
  for (const auto& [type, n] : in.anonymization_counts) total += n;
  out << "Every text in this export passed the anonymizer; " << total
      << " values were replaced. Counts per type (never the values):\n\n| Type | Replacements |\n|---|---:|\n";
  for (const auto& [type, n] : in.anonymization_counts) out << "| " << md::escape_inline(type) << " | " << n << " |\n";
  out << "\n";
}

void render_codebook(std::ostringstream& out, const codebook::Codebook& book) {
  out << "## Codebook\n\n" << md::escape_inline(book.name) << ", version " << book.version << ".\n\n";
  for (const auto& category : book.categories) {
    out << "### " << md::escape_inline(category.name) << "\n\n";
    if (!category.description.empty()) out << md::escape(category.description) << "\n\n";
    for (const auto& code : book.codes) {
      if (code.category_id != category.id) continue;
      out << std::string(static_cast<std::size_t>(code.depth) * 2, ' ') << "- **" << md::escape_inline(code.name)
          << "** (`" << code.id << "`)" << (code.retired ? " (retired)" : "") << ": "
          << md::escape_inline(code.definition) << "\n";
    }
    out << "\n";
  }
}

void render_frequencies(std::ostringstream& out, const ExportInput& in, const ReportTally& tally) {
  const auto& book = *in.codebook;
  const auto& freq = tally.frequencies();
  out << "## Code frequencies\n\n| Code | Name | Codings | Segments | Documents |\n|---|---|---:|---:|---:|\n";
  for (const auto& code : book.codes) {
    CodeFrequency f;
    if (auto it = freq.find(code.id); it != freq.end()) f = it->second;
    out << "| `" << code.id << "` | " << md::escape_inline(code.name) << " | " << f.codings << " | " << f.segments
        << " | " << f.documents << " |\n";
  }
  out << "\n### Per document\n\n| Document | Codes (codings) |\n|---|---|\n";
  for (const auto& d : tally.documents()) {
    out << "| `" << d.id << "` | ";
    auto it = tally.matrix().find(d.id);
    if (it != tally.matrix().end()) {
      bool first = true;
      for (const auto& code : book.codes) {
        auto n = it->second.find(code.id);
        if (n == it->second.end()) continue;
        out << (first ? "" : ", ") << "`" << code.id << "` " << n->second;
        first = false;
      }
    }
    out << " |\n";
  }
  out << "\n## Co-occurring codes\n\nPairs of codes applied to the same segment, most frequent first.\n\n";
  auto pairs = tally.pairs();
  if (pairs.empty()) {
    out << "No segment carries two codes.\n\n";
    return;
  }
  out << "| Code | Code | Segments |\n|---|---|---:|\n";
  for (std::size_t i = 0; i < pairs.size() && i < kTopPairs; ++i) {
    out << "| " << md::escape_inline(code_label(book, pairs[i].first)) << " | "
        << md::escape_inline(code_label(book, pairs[i].second)) << " | " << pairs[i].segments << " |\n";
  }
  out << "\n";
}

void render_excerpts(std::ostringstream& out, const ExportInput& in, const ReportTally& tally) {
  out << "## Coded excerpts\n\n";
  if (!in.policy->exports.include_quotes) {
    out << "Quotes are excluded from exports by the policy.\n\n";
    return;
  }
  for (const auto& code : in.codebook->codes) {
    auto it = tally.excerpts().find(code.id);
    if (it == tally.excerpts().end()) continue;
    const auto& [first, total] = it->second;
    out << "### " << md::escape_inline(code.name) << " (`" << code.id << "`)\n\n";
    for (const auto& excerpt : first) {
      out << md::blockquote(excerpt.quote) << ">\n> - " << md::escape_inline(excerpt.ref) << ", coder "
          << md::escape_inline(excerpt.coder) << "\n\n";
    }
    if (total > kExcerptsPerCode) out << "... and " << (total - kExcerptsPerCode) << " more in codings.json.\n\n";
  }
}

std::string render_report(const ExportInput& in, const ReportTally& tally) {
  std::ostringstream out;
  out << "# Coding report: " << md::escape_inline(in.codebook->name) << "\n\n"
      << "- Run: `" << in.run_id << "` (the signed run log is `run-logs/" << in.run_id << ".jsonl`)\n"
      << "- Generated: " << in.generated_at << " by cqda " << in.tool_version << "\n"
      << "- Codebook: version " << in.codebook->version << ", sha256 `" << in.codebook->sha256 << "`\n"
      << "- Policy: sha256 `" << in.policy->sha256 << "`\n\n";
  render_overview(out, in, tally);
  if (!in.coding_notes.empty()) {
    out << "## Coding\n\n";
    for (const auto& note : in.coding_notes) out << "- " << md::escape_inline(note) << "\n";
    out << "\n";
  }
  render_anonymization(out, in);
  render_codebook(out, *in.codebook);
  render_frequencies(out, in, tally);
  render_excerpts(out, in, tally);
  return out.str();
}

}  // namespace

Result<CaseAttributes> parse_case_attributes(std::string_view csv_text) {
  auto rows = csv::parse(csv_text);
  if (!rows) return make_error("case attributes: " + rows.error().message);
  if (rows->empty()) return make_error("case attributes: the file is empty");
  const csv::Row& header = rows->front().fields;
  auto doc_col = std::find(header.begin(), header.end(), "document");
  if (doc_col == header.end()) return make_error("case attributes: the header has no \"document\" column");
  std::size_t doc_index = static_cast<std::size_t>(doc_col - header.begin());
  CaseAttributes out;
  for (std::size_t r = 1; r < rows->size(); ++r) {
    const csv::Record& row = (*rows)[r];
    if (row.fields.size() != header.size())
      return make_error("case attributes: line " + std::to_string(row.line) + " has " + std::to_string(row.fields.size()) +
                        " fields, the header has " + std::to_string(header.size()));
    auto& attrs = out[row.fields[doc_index]];
    for (std::size_t i = 0; i < row.fields.size(); ++i)
      if (i != doc_index) attrs[header[i]] = row.fields[i];
  }
  return out;
}

std::string anonymized_text_path(const Document& document) {
  if (document.format == DocumentFormat::kText || document.format == DocumentFormat::kMarkdown)
    return document.relative_path;
  return document.relative_path + ".txt";
}

std::string render_report(const ExportInput& in) {
  ReportTally tally;
  for (const auto& d : *in.documents) tally.add_document(d);
  tally.add_codings(*in.codings);
  return render_report(in, tally);
}

std::string render_document_markdown(const Document& document, const std::vector<const coder::Coding*>& codings,
                                     const codebook::Codebook& codebook) {
  std::unordered_map<std::string_view, std::vector<const coder::Coding*>> by_segment;
  for (const auto* c : codings) by_segment[c->segment_id].push_back(c);
  std::unordered_map<std::string_view, std::string> labels;  // code id -> escaped name
  std::string out;
  out.reserve(document.text.size() * 2 + codings.size() * 160 + 256);
  auto number = [&out](auto n) { out += std::to_string(n); };
  out += "# ";
  md::append_escaped(out, document.relative_path, true);
  out += "\n\n- Document id: `";
  out += document.id;
  out += "`\n- Format: ";
  out += format_name(document.format);
  out += "\n- Input sha256: `";
  out += document.sha256;
  out += "`\n- Segments: ";
  number(document.segments.size());
  out += "\n\n";
  for (const auto& s : document.segments) {
    out += "<a id=\"";
    out += s.id;
    out += "\"></a>\n**";
    number(s.index);
    out += "**";
    if (!s.cue.empty()) {
      out += " [";
      md::append_escaped(out, s.cue, true);
      out += "]";
    }
    if (!s.speaker.empty()) {
      out += " **";
      md::append_escaped(out, s.speaker, true);
      if (!s.field.empty()) {
        out += " (";
        md::append_escaped(out, s.field, true);
        out += ")";
      }
      out += ":**";
    }
    out += " ";
    md::append_escaped(out, s.text);
    out += "\n\n";
    auto it = by_segment.find(s.id);
    if (it == by_segment.end()) continue;
    for (const auto* c : it->second) {
      auto label = labels.find(c->code_id);
      if (label == labels.end()) label = labels.emplace(c->code_id, md::escape_inline(code_label(codebook, c->code_id))).first;
      out += "> - **";
      out += label->second;
      out += "** (`";
      out += c->code_id;
      out += "`, ";
      number(c->start);
      out += "-";
      number(c->end);
      out += ", ";
      md::append_escaped(out, c->coder, true);
      out += "): \"";
      md::append_escaped(out, c->quote, true);
      out += "\"\n";
    }
    out += "\n";
  }
  return out;
}

// codings.json is written in three parts: its envelope up to the codings (when the export
// begins), the codings as they come, and the document list with the end (in finish). Each
// coding is validated against schemas/codings.schema.json as it is written, and the envelope,
// with the documents, before anything is committed; a failure names the file, the JSON pointer
// and the rule.
struct ExportWriter::State {
  State(Staging s, const ExportInput& in)
      : stage(std::move(s)),
        policy(in.policy),
        codebook(in.codebook),
        anonymized(in.anonymized),
        run_id(in.run_id),
        generated_at(in.generated_at),
        tool_version(in.tool_version),
        json_buffer(in.policy->exports) {
    for (const auto& c : codebook->codes) code_names.emplace(c.id, c.name);
  }

  bool has(policy::ExportFormat f) const { return policy->exports.formats.count(f) > 0; }

  Json envelope() const {
    Json out;
    out["format"] = "cqda-codings-v1";
    out["run_id"] = run_id;
    out["generated_at"] = generated_at;
    out["tool_version"] = tool_version;
    out["anonymized"] = anonymized;
    out["codebook"] = {{"name", codebook->name}, {"version", codebook->version}, {"sha256", codebook->sha256}};
    out["codings"] = Json::array();
    return out;
  }

  Status begin_json() {
    auto file = stage.open("codings.json");
    if (!file) return file.error();
    json.emplace(std::move(file).value());
    // The envelope ends with `"codings": []`: the codings go between the brackets.
    std::string head = envelope().dump(2);
    const std::string tail = "[]\n}";
    if (head.size() < tail.size() || head.compare(head.size() - tail.size(), tail.size(), tail) != 0)
      return make_error("codings.json: unexpected envelope layout");
    head.resize(head.size() - tail.size());
    json->text() += head;
    json->text() += "[";
    return {};
  }

  Status begin_csv() {
    auto file = stage.open("codings.csv");
    if (!file) return file.error();
    csv.emplace(std::move(file).value());
    csv->text() += csv::format_row({"document_id", "document_path", "segment_id", "start", "end", "code_id",
                                    "code_name", "coder", "codebook_version", "quote", "rationale"});
    return {};
  }

  Status write_json(std::span<const coder::Coding> codings) {
    const SchemaValidator& item = validator("codings.schema.json#/properties/codings/items");
    std::string& text = json->text();
    for (const auto& c : codings) {
      const std::size_t i = json_codings++;
      const Json& j = json_buffer.fill(c);
      auto violations = item.validate(j, "/codings/" + std::to_string(i));
      if (!violations.empty()) return validation_error("codings.json", "codings.schema.json", violations);
      text += i ? ",\n    " : "\n    ";
      if (!append_json_text_checked(text, j))
        return make_error("codings.json: coding " + std::to_string(i) + " holds text that is not valid UTF-8");
      if (auto st = json->flush_if_full(); !st) return st;
    }
    return {};
  }

  // RFC 4180, one row per coding.
  Status write_csv(std::span<const coder::Coding> codings) {
    std::string& out = csv->text();
    auto lookup = [](const auto& map, std::string_view key) {
      auto it = map.find(key);
      return it == map.end() ? key : std::string_view(it->second);
    };
    static const std::string excluded = "[quote excluded by policy]";
    auto field = [&out](std::string_view value, char end) {
      csv::append_escaped(out, value);
      out.push_back(end);
    };
    for (const auto& c : codings) {
      field(c.document_id, ',');
      field(lookup(document_paths, c.document_id), ',');
      field(c.segment_id, ',');
      field(std::to_string(c.start), ',');
      field(std::to_string(c.end), ',');
      field(c.code_id, ',');
      field(lookup(code_names, c.code_id), ',');
      field(c.coder, ',');
      field(std::to_string(c.codebook_version), ',');
      field(policy->exports.include_quotes ? std::string_view(c.quote) : std::string_view(excluded), ',');
      field(c.rationale, '\n');
      if (auto st = csv->flush_if_full(); !st) return st;
    }
    return {};
  }

  // The document list and the end of codings.json; then the envelope, documents included,
  // is validated.
  Result<ExportedFile> finish_json(const CaseAttributes& cases) {
    Json documents = Json::array();
    for (const auto& d : tally.documents()) {
      Json doc = {{"id", d.id},
                  {"path", d.path},
                  {"format", format_name(d.format)},
                  {"sha256", d.sha256},
                  {"segments", d.segments},
                  {"code_points", d.code_points}};
      if (policy->exports.include_case_attributes)
        if (auto it = cases.find(d.path); it != cases.end()) doc["attributes"] = it->second;
      documents.push_back(std::move(doc));
    }
    Json whole = envelope();
    whole["documents"] = documents;
    if (auto st = validate_export("codings.json", "codings.schema.json", whole); !st) return st.error();
    // `{"documents": [...]}` laid out as a member of the envelope: without its first line.
    Json list;
    list["documents"] = std::move(documents);
    const std::string rest = list.dump(2);
    std::string& text = json->text();
    text += json_codings ? "\n  ],\n" : "],\n";
    text.append(rest, rest.find('\n') + 1);
    text += "\n";
    return json->close();
  }

  // A document joins the report's overview and the path list (codings.csv needs its path).
  Status register_document(const Document& document) {
    if (!document_paths.emplace(document.id, document.relative_path).second)
      return make_error("export: document " + document.id + " was added twice");
    tally.add_document(document);
    return {};
  }

  // documents/<id>.md and anonymized/<path>. Touches nothing but the staging folder and the
  // two file lists, so it may run beside write_json, write_csv and the coding counts.
  Status write_document_files(const Document& document, const std::vector<const coder::Coding*>& codings) {
    if (has(policy::ExportFormat::kMarkdown)) {
      auto written = stage.write("documents/" + document.id + ".md", render_document_markdown(document, codings, *codebook));
      if (!written) return written.error();
      markdown_files.push_back(std::move(written).value());
    }
    if (has(policy::ExportFormat::kAnonymizedText)) {
      auto file = stage.open("anonymized/" + anonymized_text_path(document));
      if (!file) return file.error();
      if (auto st = file->append(document.text); !st) return st;
      if (auto st = file->append("\n"); !st) return st;
      auto written = file->close();
      if (!written) return written.error();
      text_files.push_back(std::move(written).value());
    }
    return {};
  }

  // The report counts the segments and documents of a code within each add_codings call, so
  // a document's codings must all come in one call: one whose codings came before is refused.
  Status check_one_call(std::span<const coder::Coding> codings) {
    std::set<std::string_view> in_call;
    std::string_view previous;
    for (const auto& c : codings) {
      if (c.document_id == previous) continue;
      previous = c.document_id;
      if (coded_documents.count(previous))
        return make_error("export: the codings of document " + c.document_id + " came in more than one batch");
      in_call.insert(previous);
    }
    for (auto id : in_call) coded_documents.emplace(id);
    return {};
  }

  Staging stage;
  const policy::Policy* policy;
  const codebook::Codebook* codebook;
  bool anonymized;
  std::string run_id, generated_at, tool_version;
  std::optional<StagedFile> json, csv;
  CodingJsonBuffer json_buffer;
  std::size_t json_codings = 0;
  ReportTally tally;
  std::map<std::string, std::string, std::less<>> document_paths, code_names;
  std::set<std::string, std::less<>> coded_documents;  // whose codings have come (one call each)
  std::vector<ExportedFile> markdown_files, text_files;
  Status failed;  // the first failure: the writer refuses everything after it
};

Result<ExportWriter> ExportWriter::begin(const std::filesystem::path& output_dir, const ExportInput& header) {
  if (header.policy->exports.require_anonymized && !header.anonymized)
    return make_error("the policy requires anonymized exports, but the texts were not anonymized; nothing was written");
  auto staging = Staging::create(output_dir, header.run_id);
  if (!staging) return staging.error();
  ExportWriter writer;
  writer.state_ = std::make_unique<State>(std::move(staging).value(), header);
  State& s = *writer.state_;
  if (s.has(policy::ExportFormat::kJson))
    if (auto st = s.begin_json(); !st) return st.error();
  if (s.has(policy::ExportFormat::kCsv))
    if (auto st = s.begin_csv(); !st) return st.error();
  return writer;
}

ExportWriter::ExportWriter() = default;
ExportWriter::~ExportWriter() = default;
ExportWriter::ExportWriter(ExportWriter&&) noexcept = default;
ExportWriter& ExportWriter::operator=(ExportWriter&&) noexcept = default;

const Status& ExportWriter::status() const { return state_->failed; }

Status ExportWriter::add_document(const Document& document, const std::vector<const coder::Coding*>& codings) {
  State& s = *state_;
  if (!s.failed) return s.failed;
  Status st = s.register_document(document);
  if (st) st = s.write_document_files(document, codings);
  if (!st) s.failed = st;
  return st;
}

Status ExportWriter::add_codings(std::span<const coder::Coding> codings) {
  State& s = *state_;
  if (!s.failed) return s.failed;
  if (auto st = s.check_one_call(codings); !st) return s.failed = st;
  // A large batch (an export made in one go) writes codings.json on a second thread while
  // codings.csv and the counts are made here; a document's worth is written in turn.
  constexpr std::size_t kParallel = 1 << 14;
  std::future<Status> json;
  if (s.json && codings.size() >= kParallel) json = std::async(std::launch::async, [&] { return s.write_json(codings); });
  Status result;
  if (s.json && !json.valid()) result = s.write_json(codings);
  if (result && s.csv) result = s.write_csv(codings);
  if (result) s.tally.add_codings(codings);
  if (json.valid()) {
    Status written = json.get();
    if (result && !written) result = written;
  }
  if (!result) s.failed = result;
  return result;
}

Result<std::vector<ExportedFile>> ExportWriter::finish(const ExportInput& summary,
                                                       const std::function<Status()>& before_commit) {
  State& s = *state_;
  if (!s.failed) return s.failed.error();
  Staging& stage = s.stage;
  // The report and the file list in the same order every time: report.md, the documents,
  // the anonymized texts, codings.csv, codings.json, codebook.json, then the manifest.
  if (s.has(policy::ExportFormat::kMarkdown)) {
    ExportInput in = summary;
    in.policy = s.policy;
    in.codebook = s.codebook;
    in.anonymized = s.anonymized;
    in.run_id = s.run_id;
    in.generated_at = s.generated_at;
    in.tool_version = s.tool_version;
    if (auto st = stage.add("report.md", render_report(in, s.tally)); !st) return st.error();
  }
  for (auto& f : s.markdown_files) stage.record(std::move(f));
  for (auto& f : s.text_files) stage.record(std::move(f));
  if (s.csv) {
    auto csv = s.csv->close();
    if (!csv) return csv.error();
    stage.record(std::move(csv).value());
  }
  if (s.json) {
    auto codings = s.finish_json(summary.cases);
    if (!codings) return codings.error();
    if (auto st = validate_export("codebook.json", "codebook.schema.json", s.codebook->document); !st) return st.error();
    stage.record(std::move(codings).value());
    if (auto st = stage.add("codebook.json", s.codebook->document.dump(2) + "\n"); !st) return st.error();
  }
  // The manifest lists every file above; it is written last and validated like the rest.
  Json manifest = {{"format", "cqda-manifest-v1"}, {"run_id", s.run_id}, {"generated_at", s.generated_at},
                   {"anonymized", s.anonymized}, {"files", Json::array()}};
  for (const auto& f : stage.files())
    manifest["files"].push_back({{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  if (auto st = validate_export("manifest.json", "manifest.schema.json", manifest); !st) return st.error();
  if (auto st = stage.add("manifest.json", manifest.dump(2) + "\n"); !st) return st.error();

  if (before_commit) {
    // What the caller waits for (its own writes) overlaps with the sync of the outputs.
    auto synced = std::async(std::launch::async, [&] { return stage.sync(); });
    Status ready = before_commit();
    if (auto st = synced.get(); !st) return st.error();
    if (!ready) return ready.error();
  }
  std::vector<ExportedFile> written = stage.files();
  if (auto st = stage.commit(); !st) return st.error();
  return written;
}

Result<std::vector<ExportedFile>> write_exports(const std::filesystem::path& output_dir, const ExportInput& in) {
  auto writer = ExportWriter::begin(output_dir, in);
  if (!writer) return writer.error();
  ExportWriter::State& s = *writer->state_;
  for (const auto& d : *in.documents)
    if (auto st = s.register_document(d); !st) return st.error();
  // The per-document files on a thread of their own while the codings are written (and
  // codings.json on a third when there are many); the file lists keep their order.
  const auto by_document = codings_by_document(*in.codings);
  auto pages = std::async(std::launch::async, [&]() -> Status {
    const std::vector<const coder::Coding*> none;
    for (const auto& d : *in.documents) {
      auto it = by_document.find(d.id);
      if (auto st = s.write_document_files(d, it == by_document.end() ? none : it->second); !st) return st;
    }
    return {};
  });
  Status codings = writer->add_codings(*in.codings);
  if (Status files = pages.get(); !files) return files.error();
  if (!codings) return codings.error();
  return writer->finish(in);
}

}  // namespace cqda::exporter
