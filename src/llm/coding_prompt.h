// Deductive coding with a model: segments in batches, the codebook in the prompt, and the
// model's answer checked before anything is kept.
//
// The model gets the codebook (definitions, inclusion and exclusion criteria, examples) in
// the system message and a batch of segments as JSON in the user message; it answers
// {"codings": [{"segment_id", "rationale", "code_id", "quote"}]} — the rationale before the
// label, and a quote copied verbatim from the segment. The answer must be JSON of exactly that
// schema with known segment and code ids, or the whole answer is refused (never half
// applied); each quote must then occur verbatim in its segment, or that coding is rejected
// and counted (never widened to the whole segment).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "codebook/codebook.h"
#include "coder/coding.h"
#include "common/document.h"
#include "common/json.h"
#include "common/result.h"
#include "llm/settings.h"

namespace cqda::llm {

// A segment to code, pointing into a Document that outlives the batch.
struct BatchItem {
  const Document* document = nullptr;
  const Segment* segment = nullptr;
};

struct Batch {
  std::size_t index = 0;
  std::vector<BatchItem> items;
  std::size_t characters = 0;  // bytes of segment text
};

// Segments in document order, split so that no batch has more than `settings.batch_segments`
// segments or (unless it holds a single segment) more than `settings.batch_characters` bytes
// of text. Blank segments are left out. Deterministic: the same documents and settings give
// the same batches, which is what lets a rerun find its answers in the cache.
std::vector<Batch> make_batches(const std::vector<Document>& documents, const Settings& settings);

// The id a segment has inside its batch: "s1", "s2", ... Segment ids are derived from file
// names, which may name people; the model sees only these and the supervisor maps them back.
std::string batch_segment_id(std::size_t index);

// Text from an endpoint or a model, made fit for a terminal, a report and the run log: at
// most `max_code_points`, ill-formed UTF-8 as '?', control characters (C0, DEL, C1, line
// separators) as spaces.
std::string printable(std::string_view text, std::size_t max_code_points = 200);

// The JSON Schema of an answer for this batch: code ids and batch segment ids as enums.
Json answer_schema(const codebook::Codebook& codebook, const Batch& batch);

struct ChatRequest {
  std::string system;     // instructions and the codebook
  std::string user;       // {"segments": [...]} as JSON text
  Json schema;            // answer_schema
  std::string body;       // the HTTP request body for the backend
  std::string prompt_hash;  // SHA-256 of system + "\n" + user
  std::string cache_key;    // SHA-256 over backend, endpoint and body
  std::uint64_t estimated_prompt_tokens = 0;
  // Prompt tokens plus an allowance for the answer (kAnswerTokensPerSegment per segment):
  // what the budget reserves before the request is sent.
  std::uint64_t estimated_tokens = 0;
};

ChatRequest build_coding_request(const Settings& settings, const codebook::Codebook& codebook, const Batch& batch);

// What an endpoint's JSON answer carries.
struct ChatAnswer {
  std::string content;  // the assistant message
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  bool usage_reported = false;
};

// Parses an OpenAI chat.completion or an Ollama /api/chat response body (untrusted bytes):
// bounded JSON, the first choice's message content as a string; a refusal or a
// finish_reason of "length" is an error.
Result<ChatAnswer> parse_chat_response(Backend backend, std::string_view body);

struct ProposedCoding {
  std::string segment_id;  // the batch's id ("s3")
  std::string rationale;
  std::string code_id;
  std::string quote;
};

// The content as an answer of `schema`: JSON (one surrounding ``` fence tolerated), at most
// 4 MiB and 8 levels deep, validated against the schema. Any violation refuses the whole
// answer, with the violations listed.
Result<std::vector<ProposedCoding>> parse_answer(std::string_view content, const Json& schema);

struct VerifiedCodings {
  std::vector<coder::Coding> codings;  // quote found verbatim; span in code points
  std::size_t rejected = 0;            // quote not found in its segment
  std::vector<std::string> rejected_examples;  // up to 5 "segment: quote" for the report
};

// Checks every proposal against its segment's text: the quote (trimmed of surrounding
// spaces) must occur there byte for byte; its first occurrence gives the span. A proposal
// repeated for the same segment, code and span is kept once.
VerifiedCodings verify_codings(const std::vector<ProposedCoding>& proposals, const Batch& batch,
                               const codebook::Codebook& codebook, const Settings& settings,
                               const ChatRequest& request);

inline constexpr std::uint64_t kAnswerTokensPerSegment = 150;

// Tokens a text costs, estimated before sending: one per four bytes, rounded up.
std::uint64_t estimate_tokens(std::size_t bytes);

}  // namespace cqda::llm

namespace cqda::llm {

// ---- inductive coding: proposals for new codes ---------------------------------------------
//
// The model gets the codebook's codes (to avoid proposing what exists) and a batch of segments
// nobody has coded yet, and answers {"proposals": [{"name", "definition", "rationale",
// "quotes": [{"segment_id", "quote"}]}]}. Proposals stay proposals: nothing joins the codebook
// until a researcher accepts one with update_codebook.

struct SuggestedQuote {
  std::string document_id;
  std::string segment_id;  // the real segment id
  std::size_t start = 0, end = 0;  // code points in Document::text
  std::string quote;
};

struct SuggestedCode {
  std::string name;
  std::string definition;
  std::string rationale;
  std::vector<SuggestedQuote> quotes;  // verified verbatim; a proposal without one is dropped
};

struct VerifiedSuggestions {
  std::vector<SuggestedCode> proposals;
  std::size_t proposed = 0;          // proposals in the answer
  std::size_t rejected_quotes = 0;   // quotes not found verbatim in their segment
};

Json suggestion_schema(const Batch& batch);
ChatRequest build_suggestion_request(const Settings& settings, const codebook::Codebook& codebook, const Batch& batch);
// The answer against the schema (all or nothing), then every quote checked verbatim.
Result<VerifiedSuggestions> parse_suggestions(std::string_view content, const ChatRequest& request, const Batch& batch);

}  // namespace cqda::llm
