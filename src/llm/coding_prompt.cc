#include "llm/coding_prompt.h"

#include <set>
#include <tuple>

#include "common/hash.h"
#include "common/utf8.h"

namespace cqda::llm {
namespace {

constexpr std::size_t kMaxAnswerBytes = 4u << 20;
constexpr std::size_t kMaxAnswerDepth = 8;
constexpr std::size_t kMaxRejectedExamples = 5;

bool blank(std::string_view text) {
  for (char c : text)
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r') return false;
  return true;
}

void append_list(std::string& out, std::string_view label, const std::vector<std::string>& items) {
  if (items.empty()) return;
  out += "  ";
  out += label;
  out += ":\n";
  for (const auto& item : items) out += "    - " + item + "\n";
}

std::string system_prompt(const codebook::Codebook& codebook) {
  std::string out =
      "You are a careful qualitative researcher. You code segments of interview transcripts and field notes "
      "deductively against the codebook below.\n"
      "Rules:\n"
      "- Apply a code to a segment only when the segment meets the code's definition and inclusion criteria and "
      "none of its exclusion criteria. A segment may get several codes, or none.\n"
      "- For each coding write the rationale first (one or two sentences on why the code applies), then the code id, "
      "then the quote.\n"
      "- The quote is the shortest passage that shows the code, copied from the segment's text exactly, character for "
      "character: no paraphrase, no ellipsis, no change of case, spelling or punctuation.\n"
      "- Use only the code ids of the codebook and only the segment ids you are given.\n"
      "- Names in square brackets and codes like [EMAIL] are pseudonyms and redactions; treat them as the names and "
      "values they stand for and never try to guess the originals.\n"
      "- Answer with one JSON object and nothing else: {\"codings\": [{\"segment_id\": \"...\", \"rationale\": "
      "\"...\", \"code_id\": \"...\", \"quote\": \"...\"}]}; an empty list when no code applies.\n\n";
  out += "Codebook \"" + codebook.name + "\", version " + std::to_string(codebook.version) + ":\n";
  for (const auto& code : codebook.codes) {
    if (code.retired) continue;
    out += "- " + code.id + ": " + codebook.path_of(code) + "\n";
    if (!code.definition.empty()) out += "  Definition: " + code.definition + "\n";
    append_list(out, "Include when", code.inclusion);
    append_list(out, "Exclude when", code.exclusion);
    append_list(out, "Examples", code.examples);
  }
  return out;
}

Json string_enum(const std::vector<std::string>& values) {
  return Json{{"type", "string"}, {"enum", values}};
}

}  // namespace

std::string batch_segment_id(std::size_t index) { return "s" + std::to_string(index + 1); }

namespace {

// The batch item a model's segment id names ("s3" is the third), or null.
const BatchItem* item_for(const Batch& batch, std::string_view id) {
  for (std::size_t i = 0; i < batch.items.size(); ++i)
    if (batch_segment_id(i) == id) return &batch.items[i];
  return nullptr;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max_code_points) {
  std::string out;
  std::size_t pos = 0, count = 0;
  while (pos < text.size()) {
    if (count == max_code_points) {
      out += "...";
      break;
    }
    // One code point at a time; a byte that does not start a well-formed sequence is '?'.
    std::size_t length = 1;
    const unsigned char lead = static_cast<unsigned char>(text[pos]);
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) length = 3;
    else if (lead >= 0xF0 && lead <= 0xF4) length = 4;
    std::string_view piece = text.substr(pos, length);
    const bool valid = lead < 0x80 || (length > 1 && piece.size() == length && !utf8::first_invalid_byte(piece));
    if (!valid) {
      out += '?';
      ++pos;
    } else {
      std::size_t at = 0;
      const char32_t cp = utf8::decode(piece, at);
      if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029) out += ' ';  // C0, DEL, C1, separators
      else out.append(piece);
      pos += length;
    }
    ++count;
  }
  return out;
}

std::uint64_t estimate_tokens(std::size_t bytes) { return (static_cast<std::uint64_t>(bytes) + 3) / 4; }

std::vector<Batch> make_batches(const std::vector<Document>& documents, const Settings& settings) {
  std::vector<Batch> batches;
  Batch current;
  auto flush = [&] {
    if (current.items.empty()) return;
    current.index = batches.size();
    batches.push_back(std::move(current));
    current = Batch{};
  };
  const std::size_t max_segments = settings.batch_segments == 0 ? 1 : settings.batch_segments;
  for (const auto& document : documents) {
    for (const auto& segment : document.segments) {
      if (blank(segment.text)) continue;
      if (current.items.size() == max_segments ||
          (!current.items.empty() && current.characters + segment.text.size() > settings.batch_characters))
        flush();
      current.items.push_back({&document, &segment});
      current.characters += segment.text.size();
    }
  }
  flush();
  return batches;
}

Json answer_schema(const codebook::Codebook& codebook, const Batch& batch) {
  std::vector<std::string> codes;
  for (const auto& code : codebook.codes)
    if (!code.retired) codes.push_back(code.id);
  std::vector<std::string> segments;
  for (std::size_t i = 0; i < batch.items.size(); ++i) segments.push_back(batch_segment_id(i));
  Json coding = {{"type", "object"},
                 {"properties",
                  {{"segment_id", string_enum(segments)},
                   {"rationale", {{"type", "string"}, {"maxLength", 2000}}},
                   {"code_id", string_enum(codes)},
                   {"quote", {{"type", "string"}, {"minLength", 1}, {"maxLength", 4000}}}}},
                 {"required", {"segment_id", "rationale", "code_id", "quote"}},
                 {"additionalProperties", false}};
  return {{"type", "object"},
          {"properties", {{"codings", {{"type", "array"}, {"maxItems", 2000}, {"items", coding}}}}},
          {"required", {"codings"}},
          {"additionalProperties", false}};
}

namespace {

// The batch's segments as the user message: {"segments": [{"segment_id", "speaker"?, "text"}]}.
std::string user_message(const Batch& batch) {
  Json segments = Json::array();
  for (const auto& item : batch.items) {
    Json s = {{"segment_id", batch_segment_id(segments.size())}};
    if (!item.segment->speaker.empty()) s["speaker"] = item.segment->speaker;
    s["text"] = item.segment->text;
    segments.push_back(std::move(s));
  }
  return Json{{"segments", std::move(segments)}}.dump();
}

// Fills the body for the backend, the hashes and the estimates from system, user and schema.
ChatRequest finish_request(const Settings& settings, ChatRequest r, const char* schema_name, const Batch& batch) {
  Json messages = Json::array({{{"role", "system"}, {"content", r.system}}, {{"role", "user"}, {"content", r.user}}});
  Json body;
  if (settings.backend == Backend::kOllama) {
    body = {{"model", settings.model}, {"stream", false}};
    if (settings.structured_outputs) body["format"] = r.schema;
    body["options"] = {{"temperature", settings.temperature}};
    body["messages"] = std::move(messages);
  } else {
    body = {{"model", settings.model}, {"temperature", settings.temperature}, {"messages", std::move(messages)}};
    if (settings.structured_outputs)
      body["response_format"] = {{"type", "json_schema"},
                                 {"json_schema", {{"name", schema_name}, {"strict", true}, {"schema", r.schema}}}};
  }
  r.body = body.dump();
  r.prompt_hash = sha256_hex(r.system + "\n" + r.user);
  r.cache_key = sha256_hex("cqda-llm-cache-v1\n" + std::string(backend_name(settings.backend)) + "\n" +
                           settings.endpoint_url() + "\n" + r.body);
  r.estimated_prompt_tokens = estimate_tokens(r.body.size());
  r.estimated_tokens = r.estimated_prompt_tokens + kAnswerTokensPerSegment * batch.items.size();
  return r;
}

// The answer text as JSON of `schema`: one surrounding ``` fence tolerated, bounded, and
// validated in full. Parser messages are cut before they quote the answer.
Result<Json> answer_json(std::string_view content, const Json& schema) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  std::string_view text = trim(content);
  if (text.starts_with("```") && text.size() >= 6 && text.ends_with("```")) {
    text.remove_suffix(3);
    auto newline = text.find('\n');
    if (newline == std::string_view::npos) return make_error("the answer is an empty code fence");
    text = trim(text.substr(newline + 1));
  }
  if (text.size() > kMaxAnswerBytes) return make_error("the answer is larger than 4 MiB");
  auto parsed = parse_json(text, "the model's answer", JsonLimits{kMaxAnswerBytes, kMaxAnswerDepth, false});
  if (!parsed) {
    std::string message = parsed.error().message;
    if (auto at = message.find("last read"); at != std::string::npos) message.resize(at);
    return make_error(printable(message, 200));
  }
  auto violations = validate_against_schema(schema, *parsed);
  if (!violations.empty())
    return make_error("the model's answer does not match the schema:\n" + format_violations(violations));
  return parsed;
}

}  // namespace

ChatRequest build_coding_request(const Settings& settings, const codebook::Codebook& codebook, const Batch& batch) {
  ChatRequest r;
  r.system = system_prompt(codebook);
  r.user = user_message(batch);
  r.schema = answer_schema(codebook, batch);
  return finish_request(settings, std::move(r), "codings", batch);
}

Result<ChatAnswer> parse_chat_response(Backend backend, std::string_view body) {
  auto parsed = parse_json(body, "the model's response", JsonLimits{kMaxAnswerBytes * 2, 32, false});
  if (!parsed) return parsed.error();
  const Json& j = *parsed;
  if (!j.is_object()) return make_error("the model's response is not a JSON object");
  ChatAnswer answer;
  auto count = [](const Json& object, const char* key, std::uint64_t& out) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number_unsigned()) return false;
    out = it->get<std::uint64_t>();
    return true;
  };
  const Json* message = nullptr;
  if (backend == Backend::kOllama) {
    auto m = j.find("message");
    if (m == j.end() || !m->is_object()) return make_error("the Ollama response has no message object");
    message = &*m;
    if (auto done = j.find("done"); done != j.end() && done->is_boolean() && !done->get<bool>())
      return make_error("the Ollama response is not complete (done: false)");
    if (auto reason = j.find("done_reason"); reason != j.end() && *reason == "length")
      return make_error("the model stopped at its length limit; the answer is incomplete");
    bool in = count(j, "prompt_eval_count", answer.prompt_tokens);
    bool out = count(j, "eval_count", answer.completion_tokens);
    answer.usage_reported = in || out;
  } else {
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object())
      return make_error("the response has no choices");
    const Json& choice = (*choices)[0];
    if (auto reason = choice.find("finish_reason"); reason != choice.end() && *reason == "length")
      return make_error("the model stopped at its length limit; the answer is incomplete");
    auto m = choice.find("message");
    if (m == choice.end() || !m->is_object()) return make_error("the first choice has no message object");
    message = &*m;
    if (auto refusal = m->find("refusal"); refusal != m->end() && refusal->is_string())
      return make_error("the model refused: " + printable(refusal->get<std::string>(), 200));
    if (auto usage = j.find("usage"); usage != j.end() && usage->is_object()) {
      bool in = count(*usage, "prompt_tokens", answer.prompt_tokens);
      bool out = count(*usage, "completion_tokens", answer.completion_tokens);
      answer.usage_reported = in || out;
    }
  }
  auto content = message->find("content");
  if (content == message->end() || !content->is_string()) return make_error("the message has no text content");
  answer.content = content->get<std::string>();
  return answer;
}

Result<std::vector<ProposedCoding>> parse_answer(std::string_view content, const Json& schema) {
  auto parsed = answer_json(content, schema);
  if (!parsed) return parsed.error();
  std::vector<ProposedCoding> out;
  for (const auto& c : (*parsed)["codings"])
    out.push_back({c["segment_id"].get<std::string>(), c["rationale"].get<std::string>(),
                   c["code_id"].get<std::string>(), c["quote"].get<std::string>()});
  return out;
}

VerifiedCodings verify_codings(const std::vector<ProposedCoding>& proposals, const Batch& batch,
                               const codebook::Codebook& codebook, const Settings& settings,
                               const ChatRequest& request) {
  VerifiedCodings out;
  std::set<std::tuple<std::string, std::string, std::size_t, std::size_t>> seen;
  for (const auto& p : proposals) {
    const BatchItem* item = item_for(batch, p.segment_id);
    std::string_view quote = p.quote;
    while (!quote.empty() && (quote.front() == ' ' || quote.front() == '\n')) quote.remove_prefix(1);
    while (!quote.empty() && (quote.back() == ' ' || quote.back() == '\n')) quote.remove_suffix(1);
    const std::string_view text = item ? std::string_view(item->segment->text) : std::string_view();
    std::size_t at = (item && !quote.empty()) ? text.find(quote) : std::string::npos;
    // A match must start and end on character boundaries (never inside a UTF-8 sequence).
    auto boundary = [&](std::size_t pos) {
      return pos >= text.size() || (static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80;
    };
    if (at == std::string::npos || !boundary(at) || !boundary(at + quote.size())) {
      ++out.rejected;
      if (out.rejected_examples.size() < kMaxRejectedExamples)
        out.rejected_examples.push_back((item ? item->segment->id : std::string("?")) + ": \"" +
                                        printable(quote, 120) + "\"");
      continue;
    }
    const Segment& s = *item->segment;
    const std::size_t start = s.start + utf8::length(text.substr(0, at));
    const std::size_t end = start + utf8::length(quote);
    if (!seen.emplace(s.id, p.code_id, start, end).second) continue;
    coder::Coding c;
    c.document_id = item->document->id;
    c.document_sha256 = item->document->sha256;
    c.segment_id = s.id;
    c.start = start;
    c.end = end;
    c.quote = std::string(quote);
    c.code_id = p.code_id;
    c.codebook_version = codebook.version;
    c.coder = settings.coder_name();
    c.rationale = p.rationale;
    c.prompt_hash = request.prompt_hash;
    c.cache_key = request.cache_key;
    out.codings.push_back(std::move(c));
  }
  return out;
}

}  // namespace cqda::llm

namespace cqda::llm {

Json suggestion_schema(const Batch& batch) {
  std::vector<std::string> segments;
  for (std::size_t i = 0; i < batch.items.size(); ++i) segments.push_back(batch_segment_id(i));
  Json quote = {{"type", "object"},
                {"properties", {{"segment_id", string_enum(segments)}, {"quote", {{"type", "string"}, {"minLength", 1}, {"maxLength", 4000}}}}},
                {"required", {"segment_id", "quote"}},
                {"additionalProperties", false}};
  Json proposal = {{"type", "object"},
                   {"properties",
                    {{"name", {{"type", "string"}, {"minLength", 1}, {"maxLength", 120}}},
                     {"definition", {{"type", "string"}, {"minLength", 1}, {"maxLength", 2000}}},
                     {"rationale", {{"type", "string"}, {"maxLength", 2000}}},
                     {"quotes", {{"type", "array"}, {"minItems", 1}, {"maxItems", 20}, {"items", quote}}}}},
                   {"required", {"name", "definition", "rationale", "quotes"}},
                   {"additionalProperties", false}};
  return {{"type", "object"},
          {"properties", {{"proposals", {{"type", "array"}, {"maxItems", 50}, {"items", proposal}}}}},
          {"required", {"proposals"}},
          {"additionalProperties", false}};
}

ChatRequest build_suggestion_request(const Settings& settings, const codebook::Codebook& codebook, const Batch& batch) {
  ChatRequest r;
  r.user = user_message(batch);
  std::string system =
      "You are a careful qualitative researcher doing inductive coding. The segments you are given were not "
      "coded with any code of the codebook below. Propose new codes for themes they share that the codebook does "
      "not cover yet: a short name, a definition a second coder could apply, and a rationale. Support each "
      "proposal with quotes copied from the segments exactly, character for character, each with its segment id. "
      "Do not propose a code that duplicates an existing one. Names in square brackets and codes like [EMAIL] are "
      "pseudonyms and redactions; never try to guess the originals, and never put a name into a code. Answer with "
      "one JSON object and nothing else: {\"proposals\": [{\"name\": \"...\", \"definition\": \"...\", "
      "\"rationale\": \"...\", \"quotes\": [{\"segment_id\": \"...\", \"quote\": \"...\"}]}]}; an empty list when "
      "nothing new stands out.\n\nExisting codes:\n";
  for (const auto& code : codebook.codes) {
    if (code.retired) continue;
    system += "- " + code.id + ": " + codebook.path_of(code) + (code.definition.empty() ? "" : " — " + code.definition) + "\n";
  }
  r.system = std::move(system);
  r.schema = suggestion_schema(batch);
  return finish_request(settings, std::move(r), "code_proposals", batch);
}

Result<VerifiedSuggestions> parse_suggestions(std::string_view content, const ChatRequest& request, const Batch& batch) {
  auto parsed = answer_json(content, request.schema);
  if (!parsed) return parsed.error();
  VerifiedSuggestions out;
  for (const auto& p : (*parsed)["proposals"]) {
    ++out.proposed;
    SuggestedCode code{printable(p["name"].get<std::string>(), 120), printable(p["definition"].get<std::string>(), 2000),
                       printable(p["rationale"].get<std::string>(), 2000), {}};
    for (const auto& q : p["quotes"]) {
      const BatchItem* item = item_for(batch, q["segment_id"].get<std::string>());
      const std::string quote = q["quote"].get<std::string>();
      const std::size_t at = item ? item->segment->text.find(quote) : std::string::npos;
      if (at == std::string::npos) {
        ++out.rejected_quotes;
        continue;
      }
      const Segment& s = *item->segment;
      SuggestedQuote verified;
      verified.document_id = item->document->id;
      verified.segment_id = s.id;
      verified.start = s.start + utf8::length(std::string_view(s.text).substr(0, at));
      verified.end = verified.start + utf8::length(quote);
      verified.quote = quote;
      code.quotes.push_back(std::move(verified));
    }
    if (!code.quotes.empty()) out.proposals.push_back(std::move(code));
  }
  return out;
}

}  // namespace cqda::llm
