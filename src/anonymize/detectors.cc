#include "anonymize/detectors.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <functional>

#include "anonymize/validate.h"
#include "common/utf8.h"

namespace cqda::anonymize {
namespace {

using policy::EntityType;
using re2::RE2;

// ---- patterns ----------------------------------------------------------------------------

constexpr const char* kEmail =
    R"([\p{L}\p{N}_%+\-](?:[\p{L}\p{N}._%+\-]*[\p{L}\p{N}_%+\-])?@(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?\.)+\p{L}{2,24})";
constexpr const char* kHandle = R"((?:^|[^\p{L}\p{N}_.@/+\-])(@[A-Za-z0-9_]{2,30}))";
constexpr const char* kUrl = R"((?i)(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>"]+)";
constexpr const char* kIpv4 = R"(\b(?:\d{1,3}\.){3}\d{1,3}\b)";
constexpr const char* kIpv6 = R"((?i)[0-9a-f:]*:[0-9a-f]*:[0-9a-f:.]*)";
constexpr const char* kPhone =
    R"(\+\d{1,3}(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,5})){1,7})"
    R"(|\(0[1-9]\d{0,4}\)[ .\-]?\d{2,5}(?:[ .\-]?\d{2,5}){0,3})"
    R"(|0[1-9]\d{0,4}(?:[ .\-]?\d{2,5}){1,4})"
    R"(|\(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4})"
    R"(|\d{3}[ .\-]\d{3}[ .\-]\d{4})";
constexpr const char* kIban = R"(\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30})";
constexpr const char* kCard = R"(\b\d(?:[ \-]?\d){12,18}\b)";
constexpr const char* kSsn = R"(\b\d{3}-\d{2}-\d{4}\b)";
constexpr const char* kNino = R"(\b[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]\b)";
constexpr const char* kDni = R"(\b(?:\d{8}|[XYZxyz]-?\d{7})-?[A-Za-z]\b)";
constexpr const char* kUkPostcode =
    R"(\b(?:GIR ?0AA|[A-PR-UWYZ](?:\d[A-HJKPSTUW\d]?|[A-HK-Y]\d[ABEHMNPRVWXY\d]?) ?\d[ABD-HJLNP-UW-Z]{2})\b)";
constexpr const char* kZipKeyword =
    R"((?i)\b(?:post ?code|postal ?code|zip(?: ?code)?|plz|postleitzahl|code postal)\b[ \t]*[:#.]?[ \t]*(\d{5}(?:-\d{4})?)\b)";
constexpr const char* kZipState = R"(,[ \t]*[A-Z]{2}[ \t]+(\d{5}(?:-\d{4})?)\b)";
constexpr const char* kZipCity = R"(\b(\d{5})[ \t]+(\p{Lu}\p{Ll}+))";
// "lives there, near 94103." / "we lived in 10115,": a word of residence, then within the
// clause "near" or "in" and a 5-digit code that ends the phrase. Amounts ("my salary is near
// 30000.") have no word of residence, and counts keep their noun ("near 20000 people").
constexpr const char* kZipNear =
    R"((?i)\b(?:live[sd]?|living|based|located|moved|moving|address)\b[^.!?;\n]{0,40}?\b(?:near|in)[ \t]+(\d{5}(?:-\d{4})?)(?:[ \t]*[.,;:!?)]|[ \t]*$))";
constexpr const char* kZipStreet =
    R"((?i)(?:\b(?:street|st|road|rd|avenue|ave|lane|ln|drive|boulevard|blvd|way|court|ct|place|rue|chemin|weg|str)\.?|straße|strasse|gasse|allee|platz)(?:[ \t]+\d{1,4}[a-z]?)?,?[ \t]+(\d{5}(?:-\d{4})?)\b)";

#define CQDA_MONTH                                                                          \
  "(?:jan(?:uary|\\.)?|feb(?:ruary|\\.)?|mar(?:ch|\\.)?|apr(?:il|\\.)?|may|june?|july?|"   \
  "aug(?:ust|\\.)?|sep(?:t(?:ember)?)?\\.?|oct(?:ober|\\.)?|nov(?:ember|\\.)?|"            \
  "dec(?:ember|\\.)?|januar|februar|märz|maerz|mai|juni|juli|oktober|dezember)"
#define CQDA_DAY "\\d{1,2}(?:st|nd|rd|th)?"
constexpr const char* kDateOfBirth =
    "(?i)\\b(?:born|birth[ \\t]?date|date[ \\t]+of[ \\t]+birth|d\\.?o\\.?b\\b\\.?|birthday|geboren|"
    "née|né|nacido|nacida)[^.!?\\n\\d]{0,40}?("
    CQDA_DAY "\\.?[ \\t]+(?:of[ \\t]+)?" CQDA_MONTH "\\b,?[ \\t]+\\d{4}"
    "|" CQDA_MONTH "\\b[ \\t]+" CQDA_DAY ",?[ \\t]+\\d{4}"
    "|\\d{4}-\\d{1,2}-\\d{1,2}"
    "|\\d{1,2}[/.\\-]\\d{1,2}[/.\\-](?:\\d{4}|\\d{2})"
    "|" CQDA_MONTH "\\b[ \\t]+\\d{4}"
    ")\\b";
#undef CQDA_MONTH
#undef CQDA_DAY

// Capitalized words after a 5-digit number that are not a city ("12000 People").
bool not_a_city(std::string_view word) {
  static const std::array<std::string_view, 30> kWords{
      "January", "February", "March", "April", "May", "June", "July", "August", "September",
      "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
      "Saturday", "Sunday", "The", "And", "But", "People", "Participants", "Euros", "Euro",
      "Dollars", "Pounds", "Students", "Patients"};
  return std::find(kWords.begin(), kWords.end(), word) != kWords.end();
}

RE2::Options options(bool longest = false) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_longest_match(longest);
  o.set_max_mem(32 << 20);
  return o;
}

std::unique_ptr<RE2> compile(const char* pattern, bool longest = false) {
  auto re = std::make_unique<RE2>(pattern, options(longest));
  if (!re->ok()) __builtin_trap();  // a built-in pattern that does not compile is a build bug
  return re;
}

bool ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}
bool ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// The code point before byte `pos` is a letter or digit (any script).
bool word_before(std::string_view s, std::size_t pos) {
  if (pos == 0) return false;
  std::size_t k = pos - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  std::size_t p = k;
  const char32_t cp = utf8::decode(s, p);
  return utf8::is_letter(cp) || utf8::is_digit(cp) || cp == '_';
}
bool word_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return false;
  const char32_t cp = utf8::decode(s, pos);
  return utf8::is_letter(cp) || utf8::is_digit(cp) || cp == '_';
}

// Runs `re` over `text` and calls f(groups) for each match; groups[0] is the whole match.
template <std::size_t N, typename F>
void each_match(const RE2& re, std::string_view text, F f) {
  std::array<re2::StringPiece, N> groups;
  const re2::StringPiece input(text.data(), text.size());
  std::size_t pos = 0;
  while (pos <= text.size()) {
    if (!re.Match(input, pos, text.size(), RE2::UNANCHORED, groups.data(), static_cast<int>(N))) break;
    const std::size_t b = static_cast<std::size_t>(groups[0].data() - text.data());
    const std::size_t e = b + groups[0].size();
    std::size_t next = f(groups, b, e);  // where to continue; 0 means after the match
    if (next <= b) next = e > b ? e : b + 1;
    while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
    pos = next;
  }
}

std::size_t offset_of(std::string_view text, const re2::StringPiece& piece) {
  return static_cast<std::size_t>(piece.data() - text.data());
}

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return out;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// The year of a matched date: its 4-digit run, or "'yy" for a 2-digit year.
std::string year_of(std::string_view date) {
  for (std::size_t i = 0; i + 4 <= date.size(); ++i) {
    if (std::all_of(date.begin() + static_cast<long>(i), date.begin() + static_cast<long>(i) + 4, [](char c) { return ascii_digit(c); }) &&
        (i == 0 || !ascii_digit(date[i - 1])) && (i + 4 == date.size() || !ascii_digit(date[i + 4])))
      return std::string(date.substr(i, 4));
  }
  if (date.size() >= 2) return "'" + std::string(date.substr(date.size() - 2));
  return {};
}

enum SetDetector { kSetPhone, kSetIpv4, kSetIpv6, kSetIban, kSetCard, kSetSsn, kSetNino, kSetDni,
                   kSetUkPostcode, kSetZipKeyword, kSetZipState, kSetZipCity, kSetZipStreet,
                   kSetZipNear, kSetDob, kSetCount };

}  // namespace

struct PatternDetectors::Compiled {
  bool email = false, handle = false, url = false, ip = false, phone = false, iban = false,
       card = false, postcode = false, dob = false, ssn = false, nino = false, dni = false;
  std::unique_ptr<RE2> email_re, handle_re, url_re;
  std::array<std::unique_ptr<RE2>, kSetCount> digit_re;
  std::array<bool, kSetCount> digit_enabled{};
  std::unique_ptr<RE2::Set> digit_set;  // which enabled digit detectors can match a line
  std::vector<int> set_index;           // Set pattern index -> SetDetector
  std::vector<std::unique_ptr<RE2>> custom;
  const policy::AnonymizationPolicy* policy = nullptr;

  void add(EntityType type, std::size_t begin, std::size_t end, int priority, std::string canonical,
           std::string generalized, std::vector<Detection>& out) const {
    Detection d;
    d.begin = begin;
    d.end = end;
    d.type = type;
    d.priority = priority;
    d.canonical = std::move(canonical);
    d.generalized = std::move(generalized);
    out.push_back(std::move(d));
  }

  void scan_email(std::string_view line, std::size_t base, std::vector<Detection>& out) const;
  void scan_handle(std::string_view line, std::size_t base, std::vector<Detection>& out) const;
  void scan_url(std::string_view line, std::size_t base, std::vector<Detection>& out) const;
  void scan_digit(int which, std::string_view line, std::size_t base, std::vector<Detection>& out) const;
  void scan_phone(std::string_view line, std::size_t base, std::vector<Detection>& out) const;
  void scan_card(std::string_view line, std::size_t base, std::vector<Detection>& out) const;
  void scan_iban(std::string_view line, std::size_t base, std::vector<Detection>& out) const;
};

PatternDetectors::PatternDetectors(const policy::AnonymizationPolicy& policy)
    : compiled_(std::make_unique<Compiled>()) {
  Compiled& c = *compiled_;
  c.policy = &policy;
  auto on = [&](EntityType t) { return policy.detectors.count(t) > 0; };
  auto country = [&](std::string_view name) {
    const auto& list = policy.national_id_countries;
    return list.empty() || std::find(list.begin(), list.end(), name) != list.end();
  };
  c.email = on(EntityType::kEmail);
  c.handle = on(EntityType::kHandle);
  c.url = on(EntityType::kUrl);
  c.ip = on(EntityType::kIp);
  c.phone = on(EntityType::kPhone);
  c.iban = on(EntityType::kIban);
  c.card = on(EntityType::kPaymentCard);
  c.postcode = on(EntityType::kPostcode);
  c.dob = on(EntityType::kDateOfBirth);
  const bool nid = on(EntityType::kNationalId);
  c.ssn = nid && country("us-ssn");
  c.nino = nid && country("uk-nino");
  c.dni = nid && (country("es-dni") || country("es-nie"));

  if (c.email) c.email_re = compile(kEmail);
  if (c.handle) c.handle_re = compile(kHandle);
  if (c.url) c.url_re = compile(kUrl);
  const std::array<std::pair<const char*, bool>, kSetCount> digit_patterns{{
      {kPhone, c.phone}, {kIpv4, c.ip}, {kIpv6, c.ip}, {kIban, c.iban}, {kCard, c.card},
      {kSsn, c.ssn}, {kNino, c.nino}, {kDni, c.dni}, {kUkPostcode, c.postcode},
      {kZipKeyword, c.postcode}, {kZipState, c.postcode}, {kZipCity, c.postcode},
      {kZipStreet, c.postcode}, {kZipNear, c.postcode}, {kDateOfBirth, c.dob},
  }};
  c.digit_set = std::make_unique<RE2::Set>(options(), RE2::UNANCHORED);
  for (int i = 0; i < kSetCount; ++i) {
    if (!digit_patterns[i].second) continue;
    c.digit_enabled[i] = true;
    c.digit_re[i] = compile(digit_patterns[i].first, i == kSetPhone);
    if (c.digit_set && c.digit_set->Add(digit_patterns[i].first, nullptr) >= 0) c.set_index.push_back(i);
    else c.digit_set.reset();
  }
  if (c.digit_set && (c.set_index.empty() || !c.digit_set->Compile())) c.digit_set.reset();

  for (std::size_t i = 0; i < policy.custom_patterns.size(); ++i) {
    const auto& p = policy.custom_patterns[i];
    auto re = std::make_unique<RE2>(p.pattern, options());
    if (!re->ok() && status_.ok())
      status_ = make_error("custom pattern '" + p.name + "': " + re->error());
    c.custom.push_back(re->ok() ? std::move(re) : nullptr);
  }
}

PatternDetectors::~PatternDetectors() = default;
PatternDetectors::PatternDetectors(PatternDetectors&&) noexcept = default;

Status check_custom_patterns(const policy::AnonymizationPolicy& policy) {
  for (const auto& p : policy.custom_patterns) {
    RE2 re(p.pattern, options());
    if (!re.ok()) return make_error("custom pattern '" + p.name + "': " + re.error());
  }
  return {};
}

void PatternDetectors::Compiled::scan_email(std::string_view line, std::size_t base, std::vector<Detection>& out) const {
  each_match<1>(*email_re, line, [&](auto& g, std::size_t b, std::size_t e) {
    add(EntityType::kEmail, base + b, base + e, kPriorityEmail, utf8::to_lower(g[0]), {}, out);
    return e;
  });
}

void PatternDetectors::Compiled::scan_handle(std::string_view line, std::size_t base, std::vector<Detection>& out) const {
  each_match<2>(*handle_re, line, [&](auto& g, std::size_t, std::size_t) {
    const std::size_t b = offset_of(line, g[1]);
    const std::size_t e = b + g[1].size();
    const std::string_view h(g[1].data(), g[1].size());
    const bool letter = std::any_of(h.begin() + 1, h.end(), [](char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; });
    const bool email_like = e < line.size() && (line[e] == '@' || word_at(line, e));
    if (letter && !email_like) add(EntityType::kHandle, base + b, base + e, kPriorityHandle, lower_ascii(h), {}, out);
    return e;
  });
}

void PatternDetectors::Compiled::scan_url(std::string_view line, std::size_t base, std::vector<Detection>& out) const {
  each_match<1>(*url_re, line, [&](auto&, std::size_t b, std::size_t e) {
    // Trailing punctuation belongs to the sentence; a ')' only when it has no '(' partner.
    std::string_view url = line.substr(b, e - b);
    while (!url.empty()) {
      const char last = url.back();
      if (std::string_view(".,;:!?'*").find(last) != std::string_view::npos) {
        url.remove_suffix(1);
      } else if (last == ')' || last == ']' || last == '}') {
        const char open = last == ')' ? '(' : last == ']' ? '[' : '{';
        if (std::count(url.begin(), url.end(), open) >= std::count(url.begin(), url.end(), last)) break;
        url.remove_suffix(1);
      } else if (url.size() >= 3 && (url.substr(url.size() - 3) == "\u2019" || url.substr(url.size() - 3) == "\u201D")) {
        url.remove_suffix(3);
      } else {
        break;
      }
    }
    if (url.size() > 8) add(EntityType::kUrl, base + b, base + b + url.size(), kPriorityUrl, std::string(url), {}, out);
    return e;
  });
}

void PatternDetectors::Compiled::scan_phone(std::string_view line, std::size_t base, std::vector<Detection>& out) const {
  each_match<1>(*digit_re[kSetPhone], line, [&](auto&, std::size_t b, std::size_t e) {
    const std::size_t match_end = e;
    // Part of a larger number or word ("12-020 7946", "x0123456789", "£0123 456 789").
    if (b > 0) {
      const auto p = static_cast<unsigned char>(line[b - 1]);
      if (ascii_alnum(p) || p == '+' || p == '$' || line.substr(0, b).ends_with("\u00A3") || line.substr(0, b).ends_with("\u20AC")) return match_end;
      if ((p == '.' || p == ',' || p == '/' || p == '-' || p == ' ') && b > 1 && ascii_digit(static_cast<unsigned char>(line[b - 2])) && line[b] != '+') return match_end;
      if (word_before(line, b)) return match_end;
    }
    const char first = line[b];
    const bool intl = first == '+';
    const bool national = first == '0' || (first == '(' && b + 1 < line.size() && line[b + 1] == '0');
    const std::size_t min_digits = intl ? 9 : national ? 9 : 10;
    const std::size_t max_digits = intl ? 16 : national ? 12 : 10;
    while (e > b) {
      std::string_view cand = line.substr(b, e - b);
      const std::size_t digits = validate::digits_of(cand).size();
      const bool dot = cand.find('.') != std::string_view::npos;
      const bool mixed = dot && (cand.find(' ') != std::string_view::npos || cand.find('-') != std::string_view::npos);
      const bool next_ok = e >= line.size() || (!word_at(line, e) &&
          !((line[e] == '.' || line[e] == ',' || line[e] == '/' || line[e] == '-' || line[e] == ':') && e + 1 < line.size() && ascii_digit(static_cast<unsigned char>(line[e + 1]))));
      if (digits <= max_digits && next_ok) {
        if (digits < min_digits || mixed) return match_end;
        if (!intl && !national) {  // North American: area code and exchange start with 2-9
          const std::string d = validate::digits_of(cand);
          if (d[0] < '2' || d[3] < '2') return match_end;
        }
        std::string canonical = (intl ? "+" : "") + validate::digits_of(cand);
        add(EntityType::kPhone, base + b, base + e, kPriorityPhone, std::move(canonical), {}, out);
        return match_end;
      }
      if (!intl && !national) return match_end;
      // Too many digits: drop the last group and try again ("07700 900123 2019").
      std::size_t cut = cand.find_last_of(" .-");
      if (cut == std::string_view::npos || cut == 0) return match_end;
      e = b + cut;
    }
    return match_end;
  });
}

void PatternDetectors::Compiled::scan_card(std::string_view line, std::size_t base, std::vector<Detection>& out) const {
  each_match<1>(*digit_re[kSetCard], line, [&](auto&, std::size_t b, std::size_t e) {
    if (b > 0) {
      const auto p = static_cast<unsigned char>(line[b - 1]);
      if (p == '+' || ((p == ' ' || p == '-' || p == '.') && b > 1 && ascii_digit(static_cast<unsigned char>(line[b - 2])))) return e;
    }
    std::string_view cand = line.substr(b, e - b);
    const bool spaces = cand.find(' ') != std::string_view::npos;
    const bool dashes = cand.find('-') != std::string_view::npos;
    if (spaces && dashes) return e;
    // Try every group end from the longest: "4111 1111 1111 1111 2020" is a card + a year.
    for (std::size_t end = cand.size(); end > 0;) {
      const std::string digits = validate::digits_of(cand.substr(0, end));
      if (validate::payment_card_valid(digits)) {
        add(EntityType::kPaymentCard, base + b, base + b + end, kPriorityCard, digits, {}, out);
        return b + end;
      }
      const std::size_t sep = cand.find_last_of(" -", end - 1);
      if (sep == std::string_view::npos) break;
      end = sep;
    }
    return e;
  });
}

void PatternDetectors::Compiled::scan_iban(std::string_view line, std::size_t base, std::vector<Detection>& out) const {
  each_match<1>(*digit_re[kSetIban], line, [&](auto&, std::size_t b, std::size_t e) {
    const std::string country = upper_ascii(line.substr(b, 2));
    const std::size_t want = validate::iban_length(country);
    if (want == 0) return b + 1;
    std::string compact;
    std::size_t end = b;
    while (end < e && compact.size() < want) {
      if (line[end] != ' ') compact.push_back(static_cast<char>(line[end] >= 'a' && line[end] <= 'z' ? line[end] - 32 : line[end]));
      ++end;
    }
    if (compact.size() != want || word_at(line, end) || !validate::iban_valid(compact)) return b + 1;
    add(EntityType::kIban, base + b, base + end, kPriorityIban, compact, {}, out);
    return end;
  });
}

void PatternDetectors::Compiled::scan_digit(int which, std::string_view line, std::size_t base, std::vector<Detection>& out) const {
  const RE2& re = *digit_re[which];
  switch (which) {
    case kSetPhone: scan_phone(line, base, out); return;
    case kSetCard: scan_card(line, base, out); return;
    case kSetIban: scan_iban(line, base, out); return;
    case kSetIpv4:
      each_match<1>(re, line, [&](auto& g, std::size_t b, std::size_t e) {
        const bool inside = (b >= 2 && line[b - 1] == '.' && ascii_digit(static_cast<unsigned char>(line[b - 2]))) ||
                            (e + 1 < line.size() && line[e] == '.' && ascii_digit(static_cast<unsigned char>(line[e + 1])));
        const std::string_view ip(g[0].data(), g[0].size());
        if (!inside && validate::ipv4_valid(ip)) {
          std::string generalized(ip.substr(0, ip.find('.', ip.find('.') + 1)));
          add(EntityType::kIp, base + b, base + e, kPriorityIp, std::string(ip), generalized + ".x.x", out);
        }
        return e;
      });
      return;
    case kSetIpv6:
      each_match<1>(re, line, [&](auto&, std::size_t b, std::size_t e) {
        std::size_t end = e;
        while (end > b && line[end - 1] == '.') --end;
        if (word_before(line, b) || word_at(line, end) || (end < line.size() && line[end] == ':')) return e;
        const std::string_view ip = line.substr(b, end - b);
        if (!validate::ipv6_valid(ip)) return e;
        // Generalized: the first two groups ("2001:db8::/32").
        std::string prefix;
        std::size_t groups = 0, k = 0;
        while (k < ip.size() && groups < 2) {
          std::size_t colon = ip.find(':', k);
          if (colon == std::string_view::npos || colon == k) break;
          prefix += std::string(ip.substr(k, colon - k)) + ":";
          ++groups;
          k = colon + 1;
        }
        add(EntityType::kIp, base + b, base + end, kPriorityIp, lower_ascii(ip),
            groups == 2 ? prefix + ":/32" : std::string("[IP]"), out);
        return e;
      });
      return;
    case kSetSsn:
      each_match<1>(re, line, [&](auto& g, std::size_t b, std::size_t e) {
        const bool inside = (b >= 2 && line[b - 1] == '-' && ascii_digit(static_cast<unsigned char>(line[b - 2]))) ||
                            (e + 1 < line.size() && line[e] == '-' && ascii_digit(static_cast<unsigned char>(line[e + 1])));
        const std::string_view v(g[0].data(), g[0].size());
        if (!inside && validate::us_ssn_valid(v)) add(EntityType::kNationalId, base + b, base + e, kPriorityNationalId, std::string(v), {}, out);
        return e;
      });
      return;
    case kSetNino:
    case kSetDni:
      each_match<1>(re, line, [&](auto& g, std::size_t b, std::size_t e) {
        const std::string v = upper_ascii(std::string_view(g[0].data(), g[0].size()));
        const bool valid = which == kSetNino ? validate::uk_nino_valid(v) : validate::es_dni_valid(v);
        if (valid) {
          std::string canonical;
          for (char c : v)
            if (c != ' ' && c != '-') canonical.push_back(c);
          add(EntityType::kNationalId, base + b, base + e, kPriorityNationalId, canonical, {}, out);
        }
        return e;
      });
      return;
    case kSetUkPostcode:
      each_match<1>(re, line, [&](auto& g, std::size_t b, std::size_t e) {
        std::string code(g[0].data(), g[0].size());
        std::string compact;
        for (char c : code)
          if (c != ' ') compact.push_back(c);
        const std::string outward = compact.substr(0, compact.size() - 3);
        add(EntityType::kPostcode, base + b, base + e, kPriorityPostcode, compact, outward + " \u2026", out);
        return e;
      });
      return;
    case kSetZipKeyword:
    case kSetZipState:
    case kSetZipCity:
    case kSetZipStreet:
    case kSetZipNear:
      each_match<3>(re, line, [&](auto& g, std::size_t, std::size_t e) {
        const std::size_t b = offset_of(line, g[1]);
        const std::size_t end = b + g[1].size();
        if (which == kSetZipCity) {
          if (not_a_city(std::string_view(g[2].data(), g[2].size()))) return end;
          if (b > 0 && (line[b - 1] == '$' || line[b - 1] == '-' || line[b - 1] == '.' || line[b - 1] == ',')) return end;
        }
        const std::string zip(g[1].data(), g[1].size());
        const std::size_t keep = (which == kSetZipKeyword || which == kSetZipState) ? 3 : 2;
        add(EntityType::kPostcode, base + b, base + end, kPriorityPostcode, zip, zip.substr(0, keep) + "\u2026", out);
        return which == kSetZipCity ? end : e;
      });
      return;
    case kSetDob:
      each_match<2>(re, line, [&](auto& g, std::size_t, std::size_t e) {
        const std::size_t b = offset_of(line, g[1]);
        const std::string_view date(g[1].data(), g[1].size());
        add(EntityType::kDateOfBirth, base + b, base + b + date.size(), kPriorityDateOfBirth,
            collapse_spaces(utf8::to_lower(date)), year_of(date), out);
        return e;
      });
      return;
    default:
      return;
  }
}

void PatternDetectors::scan_line(std::string_view line, std::size_t base, std::vector<Detection>& out) const {
  const Compiled& c = *compiled_;
  bool digit = false, at = false, url_hint = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (ch >= '0' && ch <= '9') digit = true;
    else if (ch == '@') at = true;
    else if ((ch == '/' && i > 0 && line[i - 1] == ':') || ((ch | 32) == 'w' && i + 3 < line.size() && (line[i + 1] | 32) == 'w' && (line[i + 2] | 32) == 'w' && line[i + 3] == '.'))
      url_hint = true;
  }
  if (at && c.email) c.scan_email(line, base, out);
  if (at && c.handle) c.scan_handle(line, base, out);
  if (url_hint && c.url) c.scan_url(line, base, out);
  if (!digit) return;
  if (c.digit_set) {
    std::vector<int> hits;
    if (!c.digit_set->Match(re2::StringPiece(line.data(), line.size()), &hits)) return;
    for (int h : hits) c.scan_digit(c.set_index[static_cast<std::size_t>(h)], line, base, out);
    return;
  }
  for (int i = 0; i < kSetCount; ++i)
    if (c.digit_enabled[i]) c.scan_digit(i, line, base, out);
}

void PatternDetectors::scan_custom(std::string_view text, std::vector<Detection>& out) const {
  const Compiled& c = *compiled_;
  // Custom patterns are listed one by one in the policy; each listed pattern runs.
  for (std::size_t i = 0; i < c.custom.size(); ++i) {
    if (!c.custom[i]) continue;
    each_match<1>(*c.custom[i], text, [&](auto& g, std::size_t b, std::size_t e) {
      if (e > b) {
        Detection d;
        d.begin = b;
        d.end = e;
        d.type = EntityType::kCustom;
        d.priority = kPriorityCustom;
        d.canonical = std::string(g[0].data(), g[0].size());
        d.custom_index = static_cast<int>(i);
        out.push_back(std::move(d));
      }
      return e;
    });
  }
}

}  // namespace cqda::anonymize
