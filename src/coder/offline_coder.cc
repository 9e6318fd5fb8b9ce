#include "coder/offline_coder.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <utility>

#include "common/utf8.h"

namespace cqda::coder {
namespace {

// Keywords match case-insensitively on word boundaries; their letters are literal.
std::string keyword_alternative(const std::string& keyword) {
  std::string quoted = RE2::QuoteMeta(keyword);
  return "(?i:\\b" + quoted + "\\b)";
}

std::string rule_pattern(const codebook::Code& code) {
  std::string pattern;
  for (const auto& k : code.keywords) pattern += (pattern.empty() ? "" : "|") + keyword_alternative(k);
  for (const auto& p : code.patterns) pattern += (pattern.empty() ? "" : "|") + ("(?:" + p + ")");
  return pattern;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

}  // namespace

std::pair<std::size_t, std::size_t> sentence_around(std::string_view text, std::size_t at) {
  std::size_t begin = 0;
  for (std::size_t i = at; i > 0; --i) {
    char c = text[i - 1];
    if (c == '\n' || ((c == '.' || c == '!' || c == '?') && i < text.size() && is_space(text[i]) && i - 1 < at)) {
      begin = i;
      break;
    }
  }
  std::size_t end = text.size();
  for (std::size_t i = at; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      end = i;
      break;
    }
    if ((c == '.' || c == '!' || c == '?') && (i + 1 == text.size() || is_space(text[i + 1]))) {
      end = i + 1;
      break;
    }
  }
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return {begin, end};
}

Result<OfflineCoder> OfflineCoder::create(const codebook::Codebook& codebook) {
  OfflineCoder coder;
  coder.codebook_version_ = codebook.version;
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  coder.prefilter_ = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (const auto& code : codebook.codes) {
    if (code.retired || (code.keywords.empty() && code.patterns.empty())) continue;
    std::string pattern = rule_pattern(code);
    auto regex = std::make_unique<RE2>(pattern, options);
    if (!regex->ok()) return make_error("code " + code.id + ": rule does not compile: " + regex->error());
    std::string error;
    if (coder.prefilter_->Add(pattern, &error) < 0) return make_error("code " + code.id + ": " + error);
    coder.rules_.push_back({code.id, std::move(regex)});
  }
  if (!coder.rules_.empty() && !coder.prefilter_->Compile())
    return make_error("the codebook's rules are too large to compile together");
  return coder;
}

OfflineCoder::~OfflineCoder() = default;
OfflineCoder::OfflineCoder(OfflineCoder&&) noexcept = default;
OfflineCoder& OfflineCoder::operator=(OfflineCoder&&) noexcept = default;

std::vector<Coding> OfflineCoder::code_document(const Document& document) const {
  std::vector<Coding> codings;
  code_document(document, codings);
  return codings;
}

void OfflineCoder::code_document(const Document& document, std::vector<Coding>& codings) const {
  codings.resize(code_document_into(document, codings, codings.size()));
}

// code_document_into sets every field of a coding it writes. A field added to Coding must be
// set there too, or a reused coding would carry an earlier coding's value into the exports.
// This catches a new string or word-sized field (a field of four bytes or less may fit the
// padding after codebook_version and slip through); the coder's test compares whole codings.
static_assert(sizeof(Coding) == 10 * sizeof(std::string) + 3 * sizeof(std::size_t),
              "Coding changed: set the new field in OfflineCoder::code_document_into");

std::size_t OfflineCoder::code_document_into(const Document& document, std::vector<Coding>& codings,
                                             std::size_t used) const {
  // Matches are found first and kept small; the codings (a dozen strings each) are then made
  // in place after the first `used`, the vector grown at most once for the document.
  struct Found {
    const Segment* segment;
    const Rule* rule;
    std::size_t start, end;                  // code points in the document
    std::size_t quote_begin, quote_end;      // bytes in the segment's text
    std::size_t match_begin, match_end;      // bytes in the segment's text
  };
  std::vector<Found> found;
  if (rules_.empty()) return used;
  std::vector<int> hits;
  std::vector<std::pair<std::size_t, std::size_t>> sentences;  // of one rule in one segment
  for (const Segment& segment : document.segments) {
    hits.clear();
    if (!prefilter_->Match(segment.text, &hits)) continue;
    std::sort(hits.begin(), hits.end());
    for (int index : hits) {
      const Rule& rule = rules_[static_cast<std::size_t>(index)];
      sentences.clear();
      re2::StringPiece input(segment.text);
      re2::StringPiece match;
      std::size_t pos = 0;
      // Code points before byte `counted_bytes` of the segment: sentences come in order, so
      // each start is counted on from the last one rather than from the segment's start.
      std::size_t counted_bytes = 0, counted_points = 0;
      while (pos <= segment.text.size() &&
             rule.regex->Match(input, pos, segment.text.size(), RE2::UNANCHORED, &match, 1)) {
        std::size_t at = static_cast<std::size_t>(match.data() - segment.text.data());
        auto sentence = sentence_around(segment.text, at);
        // A few sentences per rule and segment: a linear search beats a tree's allocations.
        const bool seen = std::find(sentences.begin(), sentences.end(), sentence) != sentences.end();
        if (sentence.second > sentence.first && !seen) {
          sentences.push_back(sentence);
          std::string_view quote(segment.text.data() + sentence.first, sentence.second - sentence.first);
          if (sentence.first < counted_bytes) counted_bytes = counted_points = 0;
          counted_points += utf8::length(std::string_view(segment.text).substr(counted_bytes, sentence.first - counted_bytes));
          counted_bytes = sentence.first;
          const std::size_t start = segment.start + counted_points;
          found.push_back({&segment, &rule, start, start + utf8::length(quote), sentence.first, sentence.second, at,
                           at + match.size()});
        }
        // Continue after this sentence: one coding per sentence and code.
        std::size_t next = std::max(sentence.second, at + std::max<std::size_t>(match.size(), 1));
        if (next <= pos) next = pos + 1;
        pos = next;
      }
    }
  }
  if (codings.size() < used + found.size()) codings.resize(used + found.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    const Found& f = found[i];
    const std::string_view text = f.segment->text;
    Coding& coding = codings[used + i];
    coding.document_id = document.id;
    coding.document_sha256 = document.sha256;
    coding.segment_id = f.segment->id;
    coding.start = f.start;
    coding.end = f.end;
    coding.quote = text.substr(f.quote_begin, f.quote_end - f.quote_begin);
    coding.code_id = f.rule->code_id;
    coding.codebook_version = codebook_version_;
    coding.coder = kOfflineCoderName;
    coding.memo.clear();
    const std::string_view matched = text.substr(f.match_begin, f.match_end - f.match_begin);
    coding.rationale.clear();
    coding.rationale.reserve(matched.size() + 15);
    coding.rationale.append("rule matched \"").append(matched).append("\"");
    coding.prompt_hash.clear();
    coding.cache_key.clear();
  }
  return used + found.size();
}

}  // namespace cqda::coder
