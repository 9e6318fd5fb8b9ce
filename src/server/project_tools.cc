#include "server/project_tools.h"

namespace cqda::server {
namespace {

Json schema(const char* text) { return Json::parse(text); }

const char* kCodingSchema = R"json({"type":"object","required":["id","document_id","segment_id","start","end","quote","code_id","coder","codebook_version","created_at"],
  "properties":{"id":{"type":"integer"},"document_id":{"type":"string"},"segment_id":{"type":"string"},
  "segment_start":{"type":"integer"},"start":{"type":"integer","description":"code points inside the segment"},
  "end":{"type":"integer"},"quote":{"type":"string"},"segment_sha256":{"type":"string"},"code_id":{"type":"string"},
  "codebook_version":{"type":"integer"},"coder":{"type":"string"},"memo":{"type":"string"},"created_at":{"type":"string"}}})json";

const char* kMemoSchema = R"json({"type":"object","required":["id","text","author","created_at"],"properties":{
  "id":{"type":"integer"},"title":{"type":"string"},"text":{"type":"string"},"author":{"type":"string"},
  "document_id":{"type":"string"},"segment_id":{"type":"string"},"code_id":{"type":"string"},"created_at":{"type":"string"}}})json";

Json list_output(const char* key, const char* item) {
  return {{"type", "object"},
          {"required", {key, "total", "offset"}},
          {"properties",
           {{key, {{"type", "array"}, {"items", schema(item)}}},
            {"total", {{"type", "integer"}}},
            {"offset", {{"type", "integer"}}},
            {"next_offset", {{"type", "integer"}}}}}};
}

// A tool whose handler forwards its arguments to one supervisor operation and renders the
// reply with `render`.
mcp::Tool forwarding(DataSource& source, std::string op, std::function<std::string(const Json&)> render) {
  mcp::Tool t;
  t.handler = [&source, op, render](const Json& args, mcp::RequestContext&) -> mcp::ToolOutcome {
    auto reply = source.request(op, args);
    if (!reply) return mcp::ToolOutcome::failure(reply.error().message);
    std::string text = render(*reply);
    return {std::move(reply).value(), std::move(text), false};
  };
  return t;
}

std::string coding_line(const Json& c) {
  return "#" + std::to_string(c["id"].get<std::int64_t>()) + " " + c["code_id"].get<std::string>() + " on " +
         c["segment_id"].get<std::string>() + " [" + std::to_string(c["start"].get<std::int64_t>()) + "," +
         std::to_string(c["end"].get<std::int64_t>()) + ") by " + c["coder"].get<std::string>() + ": \"" +
         c["quote"].get<std::string>() + "\"\n";
}

mcp::Tool code_segment(DataSource& source) {
  auto t = forwarding(source, "code_segment", [](const Json& r) {
    std::string text = "coded:\n";
    for (const auto& c : r["codings"]) text += coding_line(c);
    return text;
  });
  t.name = "code_segment";
  t.failures = {"no document or segment has this id", "the quote does not occur verbatim in the segment, or the span is outside it or does not hold the quote", "a code is unknown or retired"};
  t.title = "Code a segment";
  t.description = "Apply one or more codes to a quote or a span inside one segment. The quote must be copied verbatim "
                  "from the segment's text (read_document); a quote that occurs twice is pinned with start/end (code "
                  "points inside the segment). Coding the same span with the same code again changes nothing.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,
    "required":["document_id","segment_id","codes","coder"],"properties":{
    "document_id":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":200},
    "segment_id":{"type":"string","pattern":"^[a-z0-9.-]+$","maxLength":256},
    "quote":{"type":"string","minLength":1,"maxLength":100000,"description":"verbatim text from the segment"},
    "start":{"type":"integer","minimum":0,"description":"code point inside the segment where the span starts"},
    "end":{"type":"integer","minimum":1,"description":"code point inside the segment where the span ends (exclusive)"},
    "codes":{"type":"array","minItems":1,"maxItems":20,"uniqueItems":true,"items":{"type":"string","pattern":"^[a-z0-9][a-z0-9-]{0,63}$"}},
    "coder":{"type":"string","minLength":1,"maxLength":200,"description":"who codes: a person's name or initials"},
    "memo":{"type":"string","maxLength":65536}},
    "anyOf":[{"required":["quote"]},{"required":["start","end"]}]})json");
  t.output_schema = {{"type", "object"}, {"required", {"codings"}},
                     {"properties", {{"codings", {{"type", "array"}, {"items", schema(kCodingSchema)}}}}}};
  t.annotations = {false, false, true, false};
  return t;
}

mcp::Tool remove_coding(DataSource& source) {
  auto t = forwarding(source, "remove_coding", [](const Json& r) {
    return "removed coding #" + std::to_string(r["removed"].get<std::int64_t>()) + " (kept in the history)";
  });
  t.name = "remove_coding";
  t.failures = {"no coding has this id, or it was already removed"};
  t.title = "Remove a coding";
  t.description = "Remove one coding by id (from code_segment or list_codings). The coding stays in the project's "
                  "history with who removed it and when.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"required":["id","by"],"properties":{
    "id":{"type":"integer","minimum":1},"by":{"type":"string","minLength":1,"maxLength":200}}})json");
  t.output_schema = schema(R"json({"type":"object","required":["removed"],"properties":{"removed":{"type":"integer"}}})json");
  t.annotations = {false, true, false, false};
  return t;
}

mcp::Tool list_codings(DataSource& source) {
  auto t = forwarding(source, "list_codings", [](const Json& r) {
    std::string text;
    for (const auto& c : r["codings"]) text += coding_line(c);
    return text + std::to_string(r["total"].get<std::int64_t>()) + " codings match";
  });
  t.name = "list_codings";
  t.title = "List codings";
  t.description = "The project's codings, filtered by code, document, segment and coder (any combination), in pages.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"properties":{
    "code_id":{"type":"string","pattern":"^[a-z0-9][a-z0-9-]{0,63}$"},
    "document_id":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":200},
    "segment_id":{"type":"string","pattern":"^[a-z0-9.-]+$","maxLength":256},
    "coder":{"type":"string","minLength":1,"maxLength":200},
    "offset":{"type":"integer","minimum":0},"limit":{"type":"integer","minimum":1,"maximum":1000}}})json");
  t.output_schema = list_output("codings", kCodingSchema);
  return t;
}

mcp::Tool add_memo(DataSource& source) {
  auto t = forwarding(source, "add_memo", [](const Json& r) {
    return "memo #" + std::to_string(r["memo"]["id"].get<std::int64_t>()) + " saved";
  });
  t.name = "add_memo";
  t.failures = {"the document or code it links to does not exist"};
  t.title = "Write a memo";
  t.description = "Save an analytic memo, optionally linked to a document, a segment or a code.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"required":["text","author"],"properties":{
    "text":{"type":"string","minLength":1,"maxLength":65536},"title":{"type":"string","maxLength":200},
    "author":{"type":"string","minLength":1,"maxLength":200},
    "document_id":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":200},
    "segment_id":{"type":"string","pattern":"^[a-z0-9.-]+$","maxLength":256},
    "code_id":{"type":"string","pattern":"^[a-z0-9][a-z0-9-]{0,63}$"}}})json");
  t.output_schema = {{"type", "object"}, {"required", {"memo"}}, {"properties", {{"memo", schema(kMemoSchema)}}}};
  t.annotations = {false, false, false, false};
  return t;
}

mcp::Tool list_memos(DataSource& source) {
  auto t = forwarding(source, "list_memos", [](const Json& r) {
    std::string text;
    for (const auto& m : r["memos"])
      text += "#" + std::to_string(m["id"].get<std::int64_t>()) + " " + m.value("title", "") + " (" +
              m["author"].get<std::string>() + "): " + m["text"].get<std::string>() + "\n";
    return text + std::to_string(r["total"].get<std::int64_t>()) + " memos match";
  });
  t.name = "list_memos";
  t.title = "List memos";
  t.description = "The project's memos, filtered by document, segment, code and author, in pages.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"properties":{
    "document_id":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":200},
    "segment_id":{"type":"string","pattern":"^[a-z0-9.-]+$","maxLength":256},
    "code_id":{"type":"string","pattern":"^[a-z0-9][a-z0-9-]{0,63}$"},
    "author":{"type":"string","minLength":1,"maxLength":200},
    "offset":{"type":"integer","minimum":0},"limit":{"type":"integer","minimum":1,"maximum":1000}}})json");
  t.output_schema = list_output("memos", kMemoSchema);
  return t;
}

mcp::Tool update_codebook(DataSource& source) {
  auto t = forwarding(source, "update_codebook", [](const Json& r) {
    return "codebook version " + std::to_string(r["version"]["version"].get<int>()) + ": " +
           r["version"]["change"].value("change", r["version"]["change"].dump());
  });
  t.name = "update_codebook";
  t.failures = {"an unknown operation, member or id, or an id that clashes", "the change would make the codebook break its schema (nothing changes)"};
  t.title = "Change the codebook";
  t.description = "One versioned change to the codebook: add a code (or a category), edit a code's fields, rename a code "
                  "(its codings follow), merge codes into one (codings move; the merged codes are retired), or retire "
                  "a code (kept, but no new codings). Every version is kept with its author. The codebook you read is "
                  "anonymized: text you copy from it into a change is saved with its pseudonyms.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"required":["change","author"],"properties":{
    "author":{"type":"string","minLength":1,"maxLength":200},
    "change":{"type":"object","required":["op"],"properties":{
      "op":{"enum":["add","edit","rename","merge","retire","add_category"]},
      "code":{"type":"object","description":"add: the new code (id, name, definition, inclusion, exclusion, examples, keywords, patterns)"},
      "category_id":{"type":"string"},"parent_id":{"type":"string"},
      "code_id":{"type":"string","description":"edit, rename, retire: the code"},
      "fields":{"type":"object","description":"edit: fields to set (null removes an optional one)"},
      "new_id":{"type":"string"},"name":{"type":"string"},
      "from":{"type":"array","items":{"type":"string"},"minItems":1},"into":{"type":"string"},
      "category":{"type":"object"}}}}})json");
  t.output_schema = schema(R"json({"type":"object","required":["version"],"properties":{"version":{"type":"object",
    "required":["version","created_at","author","change","sha256"],"properties":{"version":{"type":"integer"},
    "created_at":{"type":"string"},"author":{"type":"string"},"change":{"type":"object"},"sha256":{"type":"string"}}}}})json");
  t.annotations = {false, true, false, false};
  return t;
}

mcp::Tool code_frequencies(DataSource& source) {
  auto t = forwarding(source, "code_frequencies", [](const Json& r) {
    std::string text;
    for (const auto& c : r["codes"])
      text += c["path"].get<std::string>() + ": " + std::to_string(c["codings"].get<std::int64_t>()) + " codings in " +
              std::to_string(c["documents"].get<std::int64_t>()) + " documents\n";
    return text;
  });
  t.name = "code_frequencies";
  t.title = "Code frequencies";
  t.description = "For every code of the current codebook: codings, segments and documents, optionally for one coder.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"properties":{
    "coder":{"type":"string","minLength":1,"maxLength":200}}})json");
  t.output_schema = schema(R"json({"type":"object","required":["codes","codebook_version"],"properties":{
    "codebook_version":{"type":"integer"},"codes":{"type":"array","items":{"type":"object",
    "required":["code_id","name","path","retired","codings","documents","segments"],"properties":{
    "code_id":{"type":"string"},"name":{"type":"string"},"path":{"type":"string"},"retired":{"type":"boolean"},
    "codings":{"type":"integer"},"documents":{"type":"integer"},"segments":{"type":"integer"}}}}}})json");
  return t;
}

mcp::Tool export_project(DataSource& source) {
  auto t = forwarding(source, "export_project", [](const Json& r) {
    std::string text = "exported " + std::to_string(r["codings"].get<std::size_t>()) + " codings to " +
                       r["folder"].get<std::string>() + ":\n";
    for (const auto& f : r["files"]) text += "  " + f["path"].get<std::string>() + "\n";
    return text;
  });
  t.name = "export_project";
  t.failures = {"the policy anonymizes exports but not MCP text", "the output folder cannot be written (nothing partial is left)"};
  t.title = "Export the project";
  t.description = "Write the report (Markdown), codings (JSON, CSV), codebook and manifest of the project as it stands "
                  "to a new folder exports/<time>/ under the output folder, atomically; each file is recorded with its "
                  "hash in the run log.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"properties":{}})json");
  t.output_schema = schema(R"json({"type":"object","required":["folder","files","codings"],"properties":{
    "folder":{"type":"string"},"codings":{"type":"integer"},"files":{"type":"array","items":{"type":"object",
    "required":["path","bytes","sha256"],"properties":{"path":{"type":"string"},"bytes":{"type":"integer"},"sha256":{"type":"string"}}}}}})json");
  t.annotations = {false, false, false, false};
  return t;
}

mcp::Tool verify_run_log(DataSource& source) {
  auto t = forwarding(source, "verify_run_log", [](const Json& r) {
    std::string text;
    for (const auto& l : r["logs"])
      text += l["run_id"].get<std::string>() + ": " +
              (l["intact"].is_null() ? "open" : l["intact"].get<bool>() ? "intact" : "NOT intact") + " - " +
              l.value("reason", "") + "\n";
    return text.empty() ? "no run logs" : text;
  });
  t.name = "verify_run_log";
  t.failures = {"run_id names no run log"};
  t.title = "Verify run logs";
  t.description = "Check the hash chain, signatures and seal of the project's run logs (all, or one run id).";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"properties":{
    "run_id":{"type":"string","pattern":"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$"}}})json");
  t.output_schema = schema(R"json({"type":"object","required":["logs"],"properties":{"trusted_key":{"type":"string"},
    "logs":{"type":"array","items":{"type":"object","required":["run_id","intact"],"properties":{
    "run_id":{"type":"string"},"intact":{"type":["boolean","null"]},"records":{"type":"integer"},
    "signed":{"type":"boolean"},"reason":{"type":"string"}}}}}})json");
  return t;
}

// The documents a tool works through: `document_ids` when given, else every document.
Result<std::vector<std::string>> chosen_documents(const Json& args, DataSource& source) {
  std::vector<std::string> ids;
  if (args.contains("document_ids")) {
    for (const auto& id : args["document_ids"]) ids.push_back(id.get<std::string>());
    return ids;
  }
  auto documents = source.list_documents();
  if (!documents) return documents.error();
  for (const auto& d : *documents) ids.push_back(d.id);
  return ids;
}

// The configured coder (offline rules, or the model the server was started with) over the
// chosen documents (all by default), one document at a time: progress after each, and a
// cancellation stops it between documents. With dry_run the model's requests are written
// for review and nothing is sent.
mcp::Tool auto_code(DataSource& source) {
  mcp::Tool t;
  t.name = "auto_code";
  t.failures = {"a document id is unknown (the documents before it stay coded)",
                "coding with the model stopped (token budget, endpoint failures, credentials): the documents before "
                "stay coded",
                "dry_run with the offline coder"};
  t.title = "Code automatically";
  t.description = "Code documents with the server's coder: the codebook's offline keyword and pattern rules "
                  "(coder offline-rules), or the model cqda serve was started with (coder llm:<model>; only "
                  "anonymized text is sent, every quote is checked verbatim, answers are cached). Reports progress "
                  "per document and stops when cancelled. dry_run: write the exact requests for the model under "
                  "llm-preview/ in the output folder and send nothing.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"properties":{
    "document_ids":{"type":"array","maxItems":10000,"uniqueItems":true,"items":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":200}},
    "dry_run":{"type":"boolean"}}})json");
  t.output_schema = schema(R"json({"type":"object","required":["documents","codings","cancelled"],"properties":{
    "documents":{"type":"integer"},"codings":{"type":"integer"},"cancelled":{"type":"boolean"},
    "rejected_quotes":{"type":"integer"},"previews":{"type":"integer"},
    "preview_folders":{"type":"array","items":{"type":"string"}}}})json");
  t.annotations = {false, false, true, true};  // with a model backend it reaches the endpoint
  t.handler = [&source](const Json& args, mcp::RequestContext& context) -> mcp::ToolOutcome {
    auto chosen = chosen_documents(args, source);
    if (!chosen) return mcp::ToolOutcome::failure(chosen.error().message);
    const std::vector<std::string>& ids = *chosen;
    const bool dry_run = args.value("dry_run", false);
    std::size_t done = 0, codings = 0, rejected = 0, previews = 0;
    Json folders = Json::array();
    for (const auto& id : ids) {
      if (context.cancelled()) break;
      Json request = {{"document_id", id}};
      if (dry_run) request["dry_run"] = true;
      auto reply = source.request("auto_code_document", request);
      if (!reply) return mcp::ToolOutcome::failure(reply.error().message);
      codings += (*reply)["codings"].get<std::size_t>();
      rejected += reply->value("rejected_quotes", std::size_t{0});
      previews += reply->value("previews", std::size_t{0});
      if (reply->contains("preview_folder")) folders.push_back((*reply)["preview_folder"]);
      if (reply->contains("stopped"))
        return mcp::ToolOutcome::failure("coding stopped after " + std::to_string(done) + " documents (" +
                                         std::to_string(codings) + " codings saved): " +
                                         (*reply)["stopped"].get<std::string>());
      ++done;
      context.progress(static_cast<double>(done), static_cast<double>(ids.size()), "coded " + id);
      context.log(mcp::LogLevel::kInfo, "auto_code",
                  Json{{"document_id", id}, {"codings", (*reply)["codings"]}, {"done", done}, {"of", ids.size()}});
    }
    const bool cancelled = done < ids.size();
    Json result = {{"documents", done}, {"codings", codings}, {"cancelled", cancelled}, {"rejected_quotes", rejected}};
    if (dry_run) {
      result["previews"] = previews;
      result["preview_folders"] = folders;
      return {result,
              "wrote " + std::to_string(previews) + " requests for " + std::to_string(done) +
                  " documents under llm-preview/ in the output folder; nothing was sent",
              false};
    }
    return {result,
            "coded " + std::to_string(done) + " of " + std::to_string(ids.size()) + " documents: " +
                std::to_string(codings) + " codings" + (rejected ? ", " + std::to_string(rejected) + " quotes rejected" : "") +
                (cancelled ? " (cancelled)" : ""),
            false};
  };
  return t;
}

// Inductive coding with the model: for each chosen document (all by default), the segments
// no coding touches yet go to the model, which proposes new codes with supporting quotes.
// Proposals are returned only; update_codebook accepts one.
mcp::Tool suggest_codes(DataSource& source) {
  mcp::Tool t;
  t.name = "suggest_codes";
  t.failures = {"the server has no model (started without --llm-backend)", "a document id is unknown",
                "the model could not be reached or coding stopped (token budget, endpoint failures, credentials)"};
  t.title = "Suggest new codes";
  t.description = "Inductive coding with the server's model: the uncoded segments of each document (all by default; "
                  "at most max_segments per document, default 200) go to the model, anonymized, with the codebook's "
                  "codes; it proposes new codes with definitions and quotes, and every quote is checked verbatim "
                  "(proposals without a verified quote are dropped). Proposals are not added to the codebook: accept "
                  "one with update_codebook. Reports progress per document and stops when cancelled. dry_run: write "
                  "the requests under llm-preview/ and send nothing.";
  t.input_schema = schema(R"json({"type":"object","additionalProperties":false,"properties":{
    "document_ids":{"type":"array","maxItems":10000,"uniqueItems":true,"items":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":200}},
    "max_segments":{"type":"integer","minimum":1,"maximum":2000},
    "dry_run":{"type":"boolean"}}})json");
  t.output_schema = schema(R"json({"type":"object","required":["documents","proposals","cancelled"],"properties":{
    "documents":{"type":"integer"},"cancelled":{"type":"boolean"},"rejected_quotes":{"type":"integer"},
    "previews":{"type":"integer"},"preview_folders":{"type":"array","items":{"type":"string"}},
    "proposals":{"type":"array","items":{"type":"object","required":["name","definition","quotes"],"properties":{
      "name":{"type":"string"},"definition":{"type":"string"},"rationale":{"type":"string"},
      "quotes":{"type":"array","items":{"type":"object","required":["document_id","segment_id","start","end","quote"],
        "properties":{"document_id":{"type":"string"},"segment_id":{"type":"string"},"start":{"type":"integer"},
        "end":{"type":"integer"},"quote":{"type":"string"}}}}}}}}})json");
  t.annotations = {true, false, true, true};  // changes nothing; answers are cached; reaches the model's endpoint
  t.handler = [&source](const Json& args, mcp::RequestContext& context) -> mcp::ToolOutcome {
    auto chosen = chosen_documents(args, source);
    if (!chosen) return mcp::ToolOutcome::failure(chosen.error().message);
    const std::vector<std::string>& ids = *chosen;
    Json proposals = Json::array(), folders = Json::array();
    std::size_t done = 0, rejected = 0, previews = 0;
    for (const auto& id : ids) {
      if (context.cancelled()) break;
      Json request = {{"document_id", id}};
      for (const char* key : {"dry_run", "max_segments"})
        if (args.contains(key)) request[key] = args[key];
      auto reply = source.request("suggest_codes", request);
      if (!reply) return mcp::ToolOutcome::failure(reply.error().message);
      for (auto& p : (*reply)["proposals"]) proposals.push_back(std::move(p));
      rejected += reply->value("rejected_quotes", std::size_t{0});
      previews += reply->value("previews", std::size_t{0});
      if (reply->contains("preview_folder")) folders.push_back((*reply)["preview_folder"]);
      if (reply->contains("stopped"))
        return mcp::ToolOutcome::failure("stopped after " + std::to_string(done) + " documents: " +
                                         (*reply)["stopped"].get<std::string>());
      ++done;
      context.progress(static_cast<double>(done), static_cast<double>(ids.size()), "read " + id);
    }
    const bool cancelled = done < ids.size();
    Json result = {{"documents", done}, {"cancelled", cancelled}, {"rejected_quotes", rejected}, {"proposals", proposals}};
    std::string text;
    if (args.value("dry_run", false)) {
      result["previews"] = previews;
      result["preview_folders"] = folders;
      text = "wrote " + std::to_string(previews) + " requests under llm-preview/ in the output folder; nothing was sent";
    } else {
      text = std::to_string(proposals.size()) + " proposed codes from " + std::to_string(done) + " documents" +
             (cancelled ? " (cancelled)" : "") + "; accept one with update_codebook:";
      for (const auto& p : proposals)
        text += "\n- " + p["name"].get<std::string>() + ": " + p["definition"].get<std::string>() + " (" +
                std::to_string(p["quotes"].size()) + " quotes)";
    }
    return {result, text, false};
  };
  return t;
}

}  // namespace

void add_project_tools(mcp::ToolRegistry& registry, DataSource& source) {
  registry.add(update_codebook(source));
  registry.add(code_segment(source));
  registry.add(remove_coding(source));
  registry.add(list_codings(source));
  registry.add(auto_code(source));
  registry.add(suggest_codes(source));
  registry.add(add_memo(source));
  registry.add(list_memos(source));
  registry.add(code_frequencies(source));
  registry.add(export_project(source));
  registry.add(verify_run_log(source));
}

}  // namespace cqda::server
