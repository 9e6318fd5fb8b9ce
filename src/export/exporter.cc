#include "export/exporter.h"

#include <algorithm>
#include <future>
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

// Keys in sorted order, as codings.json has always had them. Built as an ordered Json so
// that the schema's quick form checks it without a conversion.
std::string code_label(const codebook::Codebook& book, const std::string& id) {
  const codebook::Code* code = book.find(id);
  return code ? code->name : id;
}

// Words: runs of bytes other than space, tab and newline. A word starts at each such byte
// that follows one of them (or starts the text); counted without a branch per byte.
std::size_t word_count(std::string_view text) {
  auto space = [](unsigned char c) -> unsigned { return c == ' ' || c == '\n' || c == '\t'; };
  if (text.empty()) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t words = space(p[0]) ? 0 : 1;
  for (std::size_t i = 1; i < text.size(); ++i) words += space(p[i - 1]) & (space(p[i]) ^ 1u);
  return words;
}

std::string segment_ref(const coder::Coding& c) {
  auto dot = c.segment_id.rfind(".s");
  return c.document_id + ", segment " + (dot == std::string::npos ? c.segment_id : c.segment_id.substr(dot + 2));
}

using CodeMatrix = std::map<std::string, std::map<std::string, std::size_t>>;

void render_overview(std::ostringstream& out, const ExportInput& in, const CodeMatrix& matrix) {
  const auto& docs = *in.documents;
  std::size_t segments = 0, words = 0;
  std::vector<std::size_t> document_words;
  document_words.reserve(docs.size());
  for (const auto& d : docs) {
    segments += d.segments.size();
    words += document_words.emplace_back(word_count(d.text));
  }
  out << "## Corpus overview\n\n"
      << docs.size() << " documents, " << segments << " segments, " << words << " words, "
      << in.codings->size() << " codings.\n\n"
      << "| Document | Path | Format | Segments | Words | Codings |\n|---|---|---|---:|---:|---:|\n";
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const Document& d = docs[i];
    std::size_t n = 0;
    if (auto it = matrix.find(d.id); it != matrix.end())
      for (const auto& [code, count] : it->second) n += count;
    out << "| `" << d.id << "` | " << md::escape_inline(d.relative_path) << " | " << format_name(d.format) << " | "
        << d.segments.size() << " | " << document_words[i] << " | " << n << " |\n";
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
      auto it = in.cases.find(d.relative_path);
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

void render_frequencies(std::ostringstream& out, const ExportInput& in, const CodingIndex& index, const CodeMatrix& matrix) {
  const auto& book = *in.codebook;
  auto freq = code_frequencies(index);
  out << "## Code frequencies\n\n| Code | Name | Codings | Segments | Documents |\n|---|---|---:|---:|---:|\n";
  for (const auto& code : book.codes) {
    CodeFrequency f;
    if (auto it = freq.find(code.id); it != freq.end()) f = it->second;
    out << "| `" << code.id << "` | " << md::escape_inline(code.name) << " | " << f.codings << " | " << f.segments
        << " | " << f.documents << " |\n";
  }
  out << "\n### Per document\n\n| Document | Codes (codings) |\n|---|---|\n";
  for (const auto& d : *in.documents) {
    out << "| `" << d.id << "` | ";
    auto it = matrix.find(d.id);
    if (it != matrix.end()) {
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
  auto pairs = code_cooccurrence(index);
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

void render_excerpts(std::ostringstream& out, const ExportInput& in) {
  out << "## Coded excerpts\n\n";
  if (!in.policy->exports.include_quotes) {
    out << "Quotes are excluded from exports by the policy.\n\n";
    return;
  }
  // The first excerpts of each code, in coding order, and how many there are in all.
  std::unordered_map<std::string_view, std::pair<std::vector<const coder::Coding*>, std::size_t>> by_code;
  for (const auto& c : *in.codings) {
    auto& [first, count] = by_code[c.code_id];
    if (first.size() < kExcerptsPerCode) first.push_back(&c);
    ++count;
  }
  for (const auto& code : in.codebook->codes) {
    auto it = by_code.find(code.id);
    if (it == by_code.end()) continue;
    const auto& [of_code, total] = it->second;
    out << "### " << md::escape_inline(code.name) << " (`" << code.id << "`)\n\n";
    for (std::size_t i = 0; i < of_code.size() && i < kExcerptsPerCode; ++i) {
      out << md::blockquote(of_code[i]->quote) << ">\n> - " << md::escape_inline(segment_ref(*of_code[i]))
          << ", coder " << md::escape_inline(of_code[i]->coder) << "\n\n";
    }
    if (total > kExcerptsPerCode) out << "... and " << (total - kExcerptsPerCode) << " more in codings.json.\n\n";
  }
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
  std::ostringstream out;
  out << "# Coding report: " << md::escape_inline(in.codebook->name) << "\n\n"
      << "- Run: `" << in.run_id << "` (the signed run log is `run-logs/" << in.run_id << ".jsonl`)\n"
      << "- Generated: " << in.generated_at << " by cqda " << in.tool_version << "\n"
      << "- Codebook: version " << in.codebook->version << ", sha256 `" << in.codebook->sha256 << "`\n"
      << "- Policy: sha256 `" << in.policy->sha256 << "`\n\n";
  const CodingIndex index(*in.codings);  // one pass over the codings for all the counts
  const CodeMatrix matrix = code_matrix(index);
  render_overview(out, in, matrix);
  if (!in.coding_notes.empty()) {
    out << "## Coding\n\n";
    for (const auto& note : in.coding_notes) out << "- " << md::escape_inline(note) << "\n";
    out << "\n";
  }
  render_anonymization(out, in);
  render_codebook(out, *in.codebook);
  render_frequencies(out, in, index, matrix);
  render_excerpts(out, in);
  return out.str();
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

namespace {

// codings.json, streamed: the envelope and each coding are validated against
// schemas/codings.schema.json as they are written (one coding at a time keeps memory flat for
// large corpora). Fails with the file, the JSON pointer and the rule.
Status write_codings_json(const ExportInput& in, StagedFile& file) {
  std::string& text = file.text();
  Json out;
  out["format"] = "cqda-codings-v1";
  out["run_id"] = in.run_id;
  out["generated_at"] = in.generated_at;
  out["tool_version"] = in.tool_version;
  out["anonymized"] = in.anonymized;
  out["codebook"] = {{"name", in.codebook->name}, {"version", in.codebook->version}, {"sha256", in.codebook->sha256}};
  out["documents"] = Json::array();
  for (const auto& d : *in.documents) {
    Json doc = {{"id", d.id},
                {"path", d.relative_path},
                {"format", format_name(d.format)},
                {"sha256", d.sha256},
                {"segments", d.segments.size()},
                {"code_points", utf8::length(d.text)}};
    if (in.policy->exports.include_case_attributes) {
      if (auto it = in.cases.find(d.relative_path); it != in.cases.end()) doc["attributes"] = it->second;
    }
    out["documents"].push_back(std::move(doc));
  }
  out["codings"] = Json::array();
  if (auto st = validate_export("codings.json", "codings.schema.json", out); !st) return st;

  // The envelope ends with `"codings": []`; splice the codings in one at a time.
  std::string envelope = out.dump(2);
  const std::string tail = "[]\n}";
  if (envelope.size() < tail.size() || envelope.compare(envelope.size() - tail.size(), tail.size(), tail) != 0)
    return make_error("codings.json: unexpected envelope layout");
  envelope.resize(envelope.size() - tail.size());
  text += envelope;
  text += "[";
  const SchemaValidator& item = validator("codings.schema.json#/properties/codings/items");
  CodingJsonBuffer buffer(in.policy->exports);
  for (std::size_t i = 0; i < in.codings->size(); ++i) {
    const Json& j = buffer.fill((*in.codings)[i]);
    auto violations = item.validate(j, "/codings/" + std::to_string(i));
    if (!violations.empty()) return validation_error("codings.json", "codings.schema.json", violations);
    text += i ? ",\n    " : "\n    ";
    if (!append_json_text_checked(text, j))
      return make_error("codings.json: coding " + std::to_string(i) + " holds text that is not valid UTF-8");
    if (auto st = file.flush_if_full(); !st) return st;
  }
  text += in.codings->empty() ? "]\n}\n" : "\n  ]\n}\n";
  return {};
}

// codings.csv (RFC 4180), one row per coding.
Status write_codings_csv(const ExportInput& in, StagedFile& file) {
  std::string& out = file.text();
  out += csv::format_row({"document_id", "document_path", "segment_id", "start", "end", "code_id",
                          "code_name", "coder", "codebook_version", "quote", "rationale"});
  std::unordered_map<std::string_view, std::string_view> paths, names;
  for (const auto& d : *in.documents) paths.emplace(d.id, d.relative_path);
  for (const auto& c : in.codebook->codes) names.emplace(c.id, c.name);
  auto lookup = [](const auto& map, std::string_view key) {
    auto it = map.find(key);
    return it == map.end() ? key : it->second;
  };
  const std::string excluded = "[quote excluded by policy]";
  auto field = [&out](std::string_view value, char end) {
    csv::append_escaped(out, value);
    out.push_back(end);
  };
  for (const auto& c : *in.codings) {
    field(c.document_id, ',');
    field(lookup(paths, c.document_id), ',');
    field(c.segment_id, ',');
    field(std::to_string(c.start), ',');
    field(std::to_string(c.end), ',');
    field(c.code_id, ',');
    field(lookup(names, c.code_id), ',');
    field(c.coder, ',');
    field(std::to_string(c.codebook_version), ',');
    field(in.policy->exports.include_quotes ? std::string_view(c.quote) : std::string_view(excluded), ',');
    field(c.rationale, '\n');
    if (auto st = file.flush_if_full(); !st) return st;
  }
  return {};
}

// Writes `path` with `write` (one of the writers above), block by block.
Result<ExportedFile> write_streamed(const Staging& stage, const std::string& path,
                                    Status (*write)(const ExportInput&, StagedFile&), const ExportInput& in) {
  auto file = stage.open(path);
  if (!file) return file.error();
  if (auto st = write(in, *file); !st) return st.error();
  return file->close();
}

}  // namespace

Result<std::vector<ExportedFile>> write_exports(const std::filesystem::path& output_dir, const ExportInput& in) {
  const auto& formats = in.policy->exports.formats;
  auto has = [&](policy::ExportFormat f) { return formats.count(f) > 0; };
  if (in.policy->exports.require_anonymized && !in.anonymized)
    return make_error("the policy requires anonymized exports, but the texts were not anonymized; nothing was written");

  auto staging = Staging::create(output_dir, in.run_id);
  if (!staging) return staging.error();
  Staging& stage = *staging;
  auto add = [&](const std::string& path, std::string_view content) { return stage.add(path, content); };

  // codings.json and codings.csv are the largest outputs and independent of the rest: each is
  // rendered (and codings.json validated) and written on a thread of its own, and so are the
  // per-document files (documents/<id>.md, anonymized/<path>), while report.md is rendered
  // here. Every entry joins the file list in the same place every time.
  using Files = std::vector<ExportedFile>;
  std::future<Result<ExportedFile>> codings_json, codings_csv;
  std::future<Result<Files>> per_document;
  // Joins the workers on every path out of this function.
  struct Join {
    std::future<Result<ExportedFile>>& a;
    std::future<Result<ExportedFile>>& b;
    std::future<Result<Files>>& c;
    ~Join() {
      if (a.valid()) a.wait();
      if (b.valid()) b.wait();
      if (c.valid()) c.wait();
    }
  } join{codings_json, codings_csv, per_document};
  if (has(policy::ExportFormat::kJson))
    codings_json = std::async(std::launch::async, [&] {
      return write_streamed(stage, "codings.json", write_codings_json, in);
    });
  if (has(policy::ExportFormat::kCsv))
    codings_csv = std::async(std::launch::async, [&] {
      return write_streamed(stage, "codings.csv", write_codings_csv, in);
    });
  if (has(policy::ExportFormat::kMarkdown) || has(policy::ExportFormat::kAnonymizedText))
    per_document = std::async(std::launch::async, [&]() -> Result<Files> {
      Files files;
      if (has(policy::ExportFormat::kMarkdown)) {
        auto by_document = codings_by_document(*in.codings);
        for (const auto& d : *in.documents) {
          auto written = stage.write("documents/" + d.id + ".md",
                                     render_document_markdown(d, by_document[d.id], *in.codebook));
          if (!written) return written.error();
          files.push_back(std::move(written).value());
        }
      }
      if (has(policy::ExportFormat::kAnonymizedText)) {
        for (const auto& d : *in.documents) {
          auto file = stage.open("anonymized/" + anonymized_text_path(d));
          if (!file) return file.error();
          if (auto st = file->append(d.text); !st) return st.error();
          if (auto st = file->append("\n"); !st) return st.error();
          auto written = file->close();
          if (!written) return written.error();
          files.push_back(std::move(written).value());
        }
      }
      return files;
    });

  if (has(policy::ExportFormat::kMarkdown))
    if (auto st = add("report.md", render_report(in)); !st) return st.error();
  if (per_document.valid()) {
    auto files = per_document.get();
    if (!files) return files.error();
    for (auto& f : *files) stage.record(std::move(f));
  }
  if (codings_csv.valid()) {
    auto csv = codings_csv.get();
    if (!csv) return csv.error();
    stage.record(std::move(csv).value());
  }
  if (codings_json.valid()) {
    auto codings = codings_json.get();
    if (!codings) return codings.error();
    if (auto st = validate_export("codebook.json", "codebook.schema.json", in.codebook->document); !st) return st.error();
    stage.record(std::move(codings).value());
    if (auto st = add("codebook.json", in.codebook->document.dump(2) + "\n"); !st) return st.error();
  }
  // The manifest lists every file above; it is written last and validated like the rest.
  Json manifest = {{"format", "cqda-manifest-v1"}, {"run_id", in.run_id}, {"generated_at", in.generated_at},
                   {"anonymized", in.anonymized}, {"files", Json::array()}};
  for (const auto& f : stage.files())
    manifest["files"].push_back({{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  if (auto st = validate_export("manifest.json", "manifest.schema.json", manifest); !st) return st.error();
  if (auto st = add("manifest.json", manifest.dump(2) + "\n"); !st) return st.error();

  std::vector<ExportedFile> written = stage.files();
  if (auto st = stage.commit(); !st) return st.error();
  return written;
}

}  // namespace cqda::exporter
