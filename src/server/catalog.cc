#include "server/catalog.h"

#include <algorithm>

#include "server/project_tools.h"
#include "server/read_tools.h"

namespace cqda::server {
namespace {

constexpr std::uint64_t kPage = 500;
constexpr const char* kDocumentTemplate = "cqda://documents/{id}";
constexpr const char* kCodebookUri = "cqda://codebook";
constexpr const char* kReportUri = "cqda://reports/latest";

std::vector<std::string> document_ids(DataSource& source, const std::string& prefix) {
  std::vector<std::string> out;
  if (auto documents = source.list_documents())
    for (const auto& d : *documents)
      if (d.id.rfind(prefix, 0) == 0) out.push_back(d.id);
  return out;
}

std::vector<std::string> code_ids(DataSource& source, const std::string& prefix) {
  std::vector<std::string> out;
  auto codebook = source.codebook();
  if (!codebook) return out;
  // Codes nest under categories and under other codes ("children").
  std::function<void(const Json&)> walk = [&](const Json& codes) {
    if (!codes.is_array()) return;
    for (const auto& c : codes) {
      const std::string id = c.value("id", "");
      if (!id.empty() && id.rfind(prefix, 0) == 0 && c.value("status", "active") != "retired") out.push_back(id);
      if (c.contains("children")) walk(c["children"]);
    }
  };
  for (const auto& category : codebook->value("categories", Json::array())) walk(category.value("codes", Json::array()));
  return out;
}

mcp::ResourceProvider resources(DataSource& source) {
  mcp::ResourceProvider provider;
  provider.list = [&source]() -> Result<std::vector<mcp::Resource>> {
    std::vector<mcp::Resource> out;
    out.push_back({kCodebookUri, "codebook", "Codebook", "The project's current codebook", "application/json", std::nullopt});
    if (auto report = source.request("latest_report", Json::object()); report && report->value("exists", false))
      out.push_back({kReportUri, "report", "Latest report", "The most recent analysis report", "text/markdown", std::nullopt});
    auto documents = source.list_documents();
    if (!documents) return documents.error();
    for (const auto& d : *documents)
      out.push_back({"cqda://documents/" + d.id, d.id, d.path, d.format + " document, " + std::to_string(d.segments) + " segments",
                     "text/plain", std::nullopt});
    return out;
  };
  provider.read = [&source](const std::string& uri) -> Result<std::optional<mcp::ResourceText>> {
    using Found = std::optional<mcp::ResourceText>;
    if (uri == kCodebookUri) {
      auto codebook = source.codebook();
      if (!codebook) return codebook.error();
      return Found(mcp::ResourceText{uri, "application/json", codebook->dump(2)});
    }
    if (uri == kReportUri) {
      auto report = source.request("latest_report", Json::object());
      if (!report) return report.error();
      if (!report->value("exists", false)) return Found();
      return Found(mcp::ResourceText{uri, "text/markdown", report->value("text", "")});
    }
    auto vars = mcp::match_template(kDocumentTemplate, uri);
    if (!vars) return Found();
    // The whole document, page by page.
    auto page = source.read_document(vars->at("id"), 0, kPage);
    if (!page) return Found();  // an unknown id is a missing resource
    while (page->segments.size() < page->document.segments) {
      auto more = source.read_document(vars->at("id"), page->segments.size(), kPage);
      if (!more) return more.error();
      if (more->segments.empty()) break;
      for (auto& s : more->segments) page->segments.push_back(std::move(s));
    }
    return Found(mcp::ResourceText{uri, "text/plain", render_document(*page)});
  };
  mcp::ResourceTemplate documents{kDocumentTemplate, "document", "Document",
                                  "One document of the corpus, anonymized, segment by segment", "text/plain", nullptr};
  documents.complete = [&source](const std::string&, const std::string& prefix) { return document_ids(source, prefix); };
  provider.templates.push_back(std::move(documents));
  return provider;
}

mcp::PromptArgument document_argument(DataSource& source, bool required) {
  mcp::PromptArgument a{"document_id", "Document", "The id of a document (see list_documents)", required, 200, nullptr};
  a.complete = [&source](const std::string& prefix, const auto&) { return document_ids(source, prefix); };
  return a;
}

mcp::PromptArgument code_argument(DataSource& source, bool required, std::string description) {
  mcp::PromptArgument a{"code_id", "Code", std::move(description), required, 64, nullptr};
  a.complete = [&source](const std::string& prefix, const auto&) { return code_ids(source, prefix); };
  return a;
}

Status check_document(DataSource& source, const std::map<std::string, std::string>& args) {
  auto it = args.find("document_id");
  if (it == args.end()) return Status::success();
  if (source.read_document(it->second, 0, 1)) return Status::success();
  return make_error("no document with id " + it->second);
}

Status check_code(DataSource& source, const std::map<std::string, std::string>& args) {
  auto it = args.find("code_id");
  if (it == args.end()) return Status::success();
  auto ids = code_ids(source, it->second);
  if (std::find(ids.begin(), ids.end(), it->second) != ids.end()) return Status::success();
  return make_error("no active code with id " + it->second);
}

void add_prompts(mcp::PromptRegistry& prompts, DataSource& source) {
  mcp::Prompt deductive;
  deductive.name = "deductive_coding";
  deductive.title = "Deductive coding";
  deductive.description = "Code one document against the codebook, segment by segment, with verbatim quotes.";
  deductive.arguments = {document_argument(source, true),
                         code_argument(source, false, "Only this code (default: every active code)")};
  deductive.render = [&source](const std::map<std::string, std::string>& args) -> Result<mcp::PromptResult> {
    if (auto st = check_document(source, args); !st) return st.error();
    if (auto st = check_code(source, args); !st) return st.error();
    const std::string& doc = args.at("document_id");
    const std::string scope = args.count("code_id") ? "the code " + args.at("code_id") : "every active code";
    return mcp::PromptResult{
        "Deductive coding of " + doc,
        {{"user",
          "You are coding qualitative data against a fixed codebook. First call get_codebook and read the definitions, "
          "inclusion and exclusion criteria and examples of " + scope + ". Then read the document " + doc +
              " with read_document, page by page. For each segment that fits a code, state your rationale first, then call "
              "code_segment with the segment id, the code id and a quote copied verbatim from the segment (the server "
              "refuses quotes that do not match). Do not code a segment that only mentions a keyword without meeting the "
              "definition. Finish with list_codings for this document and a short summary of what you coded and what you "
              "were unsure about."}}};
  };
  prompts.add(std::move(deductive));

  mcp::Prompt inductive;
  inductive.name = "inductive_coding";
  inductive.title = "Inductive coding";
  inductive.description = "Read a document openly and propose new codes grounded in verbatim quotes.";
  inductive.arguments = {document_argument(source, true),
                         {"focus", "Focus", "An optional research question or theme to read for", false, 200, nullptr}};
  inductive.render = [&source](const std::map<std::string, std::string>& args) -> Result<mcp::PromptResult> {
    if (auto st = check_document(source, args); !st) return st.error();
    const std::string& doc = args.at("document_id");
    const std::string focus = args.count("focus") ? " Read with this question in mind: " + args.at("focus") + "." : "";
    return mcp::PromptResult{
        "Inductive coding of " + doc,
        {{"user",
          "Read the document " + doc + " with read_document and code it openly." + focus +
              " Compare what you read with the existing codebook (get_codebook). For each new idea, propose a code: an id, "
              "a name, a definition, inclusion and exclusion criteria, and two or more supporting quotes copied verbatim "
              "with their segment ids. Present the proposals for the researcher to accept; only after they agree, add "
              "them with update_codebook and apply them with code_segment. Record your analytic thoughts with add_memo."}}};
  };
  prompts.add(std::move(inductive));

  mcp::Prompt thematic;
  thematic.name = "thematic_summary";
  thematic.title = "Thematic summary";
  thematic.description = "Summarize what the coded material says about one code, across documents.";
  thematic.arguments = {code_argument(source, true, "The code to summarize")};
  thematic.render = [&source](const std::map<std::string, std::string>& args) -> Result<mcp::PromptResult> {
    if (auto st = check_code(source, args); !st) return st.error();
    const std::string& code = args.at("code_id");
    return mcp::PromptResult{
        "Thematic summary of " + code,
        {{"user",
          "Write a thematic summary of the code " + code + ". Call get_codebook for its definition, list_codings with "
              "code " + code + " for every coded excerpt, and code_frequencies for how it spreads across documents. "
              "Describe the patterns, the variation and the exceptions, quoting excerpts verbatim with their document ids. "
              "Use only the pseudonyms in the data; never guess at who a person is. Save the summary with add_memo "
              "linked to the code."}}};
  };
  prompts.add(std::move(thematic));
}

}  // namespace

std::string render_document(const DataSource::Page& page) {
  std::string text;
  for (const Segment& s : page.segments) {
    if (!text.empty()) text += "\n\n";
    text += "[" + s.id + "] ";
    if (!s.speaker.empty()) text += s.speaker + ": ";
    text += s.text;
  }
  return text;
}

std::unique_ptr<mcp::Catalog> build_catalog(DataSource& source, const std::string& version) {
  auto catalog = std::make_unique<mcp::Catalog>(mcp::ServerInfo{
      "cqda", version,
      "Qualitative data analysis of an anonymized research corpus. Documents are pseudonymized: never try to "
      "re-identify people. Quotes given to code_segment must be copied verbatim from a segment.",
      "cqda qualitative data analysis"});
  add_read_tools(catalog->tools(), source);
  add_project_tools(catalog->tools(), source);
  catalog->set_resources(resources(source));
  add_prompts(catalog->prompts(), source);
  catalog->enable_logging();
  return catalog;
}

}  // namespace cqda::server
