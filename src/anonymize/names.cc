#include "anonymize/names.h"

#include <algorithm>
#include <cctype>

#include "common/utf8.h"

namespace cqda::anonymize {
namespace {

using policy::EntityType;

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using WordSet = std::unordered_set<std::string, Hash, std::equal_to<>>;

WordSet make_set(std::initializer_list<const char*> words) {
  WordSet set;
  for (const char* w : words) set.emplace(w);
  return set;
}

// Capitalized words that are never taken for a name on their own: calendar words, function
// words that start sentences, nationalities and languages, institutions, roles of people in
// a transcript, pseudonym prefixes, and place-kind words.
const WordSet& common_words() {
  static const WordSet set = make_set({
      "january", "february", "march", "april", "may", "june", "july", "august", "september",
      "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
      "saturday", "sunday", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
      "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "today", "tomorrow",
      "yesterday", "christmas", "easter", "ramadan", "eid", "diwali", "hanukkah", "passover",
      "thanksgiving", "halloween", "new", "year",
      "i", "a", "an", "the", "and", "but", "or", "nor", "so", "yet", "if", "when", "then", "than",
      "he", "she", "we", "they", "it", "you", "me", "him", "her", "us", "them", "my", "our",
      "your", "his", "their", "its", "this", "that", "these", "those", "there", "here", "what",
      "who", "whom", "whose", "which", "why", "how", "where", "while", "after", "before",
      "because", "although", "though", "as", "at", "by", "for", "from", "in", "into", "of", "on",
      "to", "with", "without", "about", "all", "any", "some", "no", "not", "yes", "yeah", "ok",
      "okay", "oh", "ah", "um", "uh", "er", "hmm", "well", "hi", "hello", "hey", "dear", "thanks",
      "thank", "please", "sorry", "also", "just", "only", "even", "maybe", "perhaps", "still",
      "every", "each", "both", "either", "neither", "one", "two", "three", "first", "second",
      "last", "next", "other", "another", "many", "much", "more", "most", "few", "lots", "like",
      "do", "does", "did", "is", "are", "was", "were", "be", "been", "have", "has", "had", "can",
      "could", "would", "should", "shall", "must", "might", "let", "lets", "get", "got", "go",
      "said", "says", "say", "see", "look", "mr", "mrs", "ms", "dr",
      "english", "british", "scottish", "welsh", "irish", "french", "german", "spanish",
      "italian", "polish", "portuguese", "dutch", "greek", "turkish", "arabic", "russian",
      "ukrainian", "chinese", "japanese", "korean", "indian", "african", "european", "american",
      "asian", "muslim", "christian", "jewish", "hindu", "sikh", "catholic", "protestant",
      "filipino", "filipina", "filipinos", "nigerian", "ghanaian", "kenyan", "zimbabwean",
      "south", "pakistani", "bangladeshi", "nepali", "nepalese", "sri", "lankan", "romanian",
      "bulgarian", "lithuanian", "latvian", "estonian", "hungarian", "czech", "slovak",
      "moroccan", "algerian", "tunisian", "egyptian", "somali", "eritrean", "ethiopian",
      "sudanese", "syrian", "iraqi", "iranian", "afghan", "kurdish", "brazilian", "mexican",
      "colombian", "venezuelan", "jamaican", "caribbean", "latino", "latina", "hispanic",
      "malaysian", "indonesian", "vietnamese", "thai", "cantonese", "mandarin", "tagalog",
      "swahili", "yoruba", "igbo", "hausa", "twi", "shona", "zulu", "punjabi", "urdu", "hindi",
      "bengali", "tamil", "malayali", "gujarati", "albanian", "serbian", "croatian", "bosnian",
      "god", "allah", "lord", "jesus",
      "nhs", "gp", "gps", "a&e", "covid", "covid-19", "uk", "us", "usa", "eu", "un", "bbc", "ok",
      "tv", "ceo", "hr", "it", "ai", "phd", "mp", "pm", "am", "ad", "bc", "id", "dob", "faq",
      "internet", "google", "facebook", "whatsapp", "zoom", "teams", "skype", "youtube",
      "interviewer", "interviewee", "participant", "respondent", "moderator", "facilitator",
      "researcher", "speaker", "narrator", "unknown", "unidentified", "inaudible", "crosstalk",
      "laughter", "laughs", "pause", "silence", "note", "transcript", "interview", "question",
      "answer", "q", "a", "person", "place", "org", "redacted", "anonymous", "audience", "all",
      "everyone", "group", "other", "others", "host", "guest", "caller", "staff", "team",
      "street", "road", "avenue", "lane", "hospital", "school", "university", "college",
      "church", "council", "city", "town", "village", "county", "centre", "center", "home",
      "house", "ward", "clinic", "office", "north", "south", "east", "west", "government",
      "ministry", "department", "trust", "service", "services", "union", "club", "park",
  });
  return set;
}

// Names that are also frequent ordinary English words, often capitalized at a sentence
// start. A rostered one-word name in this list needs context; other rostered names do not.
const WordSet& frequent_ordinary_words() {
  static const WordSet set = make_set({
      "will", "may", "hope", "grace", "rose", "mark", "bill", "frank", "joy", "faith", "summer",
      "sunny", "pat", "young", "white", "black", "brown", "green", "gray", "grey", "chase", "baker",
      "cook", "smith", "page", "hunter", "guy", "art", "dawn", "amber", "ruby", "iris", "ivy",
      "lily", "june", "april", "august", "patience", "honor", "honour", "honey", "sky", "river",
      "autumn", "holly", "heather", "daisy", "jack", "victor", "king", "bishop", "church",
      "hall", "hill", "wood", "woods", "field", "fields", "long", "rich", "love", "star", "stone",
      "price", "early", "major", "noble", "sterling", "hardy", "wise", "moody", "bliss", "sage",
      "angel", "crystal", "destiny", "harmony", "justice", "liberty", "trinity", "charity",
      "constance", "prudence", "mercy", "felicity", "serenity", "miles", "rock", "reed", "drew",
      "carol", "don", "ray", "bob", "rob", "sue", "nick", "max", "mat", "bud", "buck", "cliff",
      "dale", "dean", "glen", "gene", "jean", "lane", "lou", "mo", "penny", "robin", "sandy",
      "will's", "wren", "wade", "winter", "spring", "storm", "rain", "fox", "wolf", "bear",
  });
  return set;
}

// Titles: the next Capitalized word is a name, and the title stays in the text.
const WordSet& titles() {
  static const WordSet set = make_set({
      "dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame",
      "madam", "madame", "mme", "mlle", "monsieur", "herr", "frau", "señor", "señora", "sr",
      "sra", "rev", "revd", "reverend", "father", "sister", "brother", "nurse", "matron",
      "pastor", "imam", "rabbi", "cllr", "councillor", "judge", "officer", "sergeant", "sgt",
      "captain", "capt", "uncle", "auntie", "aunty", "aunt", "nan", "nana", "grandma", "grandpa",
  });
  return set;
}

// Kinship and relationship words: "my sister Grace", "her manager Frank".
const WordSet& relations() {
  static const WordSet set = make_set({
      "sister", "brother", "mother", "father", "mum", "mom", "mam", "mummy", "mommy", "dad",
      "daddy", "husband", "wife", "partner", "spouse", "son", "daughter", "child", "kid", "baby",
      "aunt", "auntie", "uncle", "cousin", "niece", "nephew", "grandmother", "grandfather",
      "grandma", "grandpa", "granny", "nan", "nana", "grandson", "granddaughter", "stepmother",
      "stepfather", "stepson", "stepdaughter", "stepsister", "stepbrother", "sibling", "twin",
      "friend", "bestie", "colleague", "coworker", "co-worker", "boss", "manager", "supervisor",
      "neighbour", "neighbor", "boyfriend", "girlfriend", "fiancé", "fiancée", "fiance",
      "fiancee", "carer", "caregiver", "caseworker", "teacher", "tutor", "student", "pupil",
      "client", "patient", "flatmate", "housemate", "roommate", "mate", "buddy", "pal",
      "landlord", "landlady", "employer", "therapist", "counsellor", "counselor", "midwife",
      "doctor", "nurse",
  });
  return set;
}

// Verbs of address and greetings: "called Hope", "told Will", "Dear Frank". Weaker than a
// title: the next word must be in the gazetteer (ambiguous words included).
const WordSet& address_words() {
  static const WordSet set = make_set({
      "called", "named", "told", "asked", "met", "meet", "thanked", "married", "marry", "texted",
      "phoned", "rang", "emailed", "messaged", "visited", "dear", "hi", "hello", "hey", "thanks",
      "love", "miss", "missed", "tell", "ask", "call", "via", "cc",
  });
  return set;
}

// Second word of a two-word verb of address: "talked to X", "my name is X".
bool address_pair(std::string_view first, std::string_view second) {
  if (second == "to")
    return first == "talked" || first == "spoke" || first == "speak" || first == "speaking" ||
           first == "talking" || first == "spoken" || first == "said" || first == "wrote" ||
           first == "write" || first == "writing" || first == "listen" || first == "listened";
  if (second == "is" || second == "was") return first == "name";
  if (second == "with") return first == "spoke" || first == "met" || first == "went" || first == "lives" || first == "lived";
  return false;
}

// Roles that, after "X, the ...", say X is a person: "Siobhan, the deputy", "Tendai, our new
// cook". Relation words count too.
const WordSet& roles() {
  static const WordSet set = make_set({
      "deputy", "owner", "director", "coordinator", "receptionist", "cleaner", "cook", "chef",
      "driver", "administrator", "assistant", "lawyer", "solicitor", "worker", "officer", "head",
      "chair", "secretary", "lead", "leader", "volunteer", "organiser", "organizer", "rep",
      "representative", "steward", "interpreter", "translator", "recruiter", "agent", "advisor",
      "adviser", "inspector", "matron", "sister", "nurse", "doctor", "carer", "caretaker",
      "handyman", "porter", "housekeeper", "accountant", "chaplain", "priest", "vicar", "imam",
      "pastor", "mentor", "trainer", "trainee", "apprentice", "registrar", "consultant",
      "physio", "physiotherapist", "pharmacist", "paramedic", "gp", "dentist", "social",
      "senior", "junior", "chief", "manageress",
  });
  return set;
}

const WordSet& determiners() {
  static const WordSet set = make_set({"the", "my", "our", "his", "her", "their", "your", "a", "an"});
  return set;
}

// Street-type words after a name: "Hawthorn Street", "12 Mill Lane". Without a house number,
// a generic first word ("High Street") is not taken for an address.
const WordSet& street_types() {
  static const WordSet set = make_set({
      "street", "road", "lane", "avenue", "crescent", "terrace", "boulevard", "gardens",
      "square", "grove", "close", "drive", "court", "mews", "parade", "rd", "st", "ave",
  });
  return set;
}
const WordSet& street_types_numbered_only() {
  static const WordSet set = make_set({"close", "drive", "court", "mews", "parade", "rd", "st", "ave", "grove"});
  return set;
}
const WordSet& generic_street_names() {
  static const WordSet set = make_set({
      "high", "main", "church", "station", "market", "mill", "park", "new", "old", "bridge",
      "north", "south", "east", "west", "front", "back", "long", "green", "school", "the",
  });
  return set;
}
// German, Dutch and Scandinavian street compounds: "Lindenhofstraße", "Mariahilfergasse".
constexpr std::string_view kStreetSuffixes[] = {"straße", "strasse", "gasse", "allee", "platz",
                                                "damm", "chaussee", "straat", "gracht", "gatan", "gade", "gata"};

bool is_apostrophe(char32_t cp) { return cp == '\'' || cp == 0x2019; }
bool is_joiner(char32_t cp) { return cp == '-' || cp == 0x2010 || is_apostrophe(cp); }

bool is_sentence_end(char32_t cp) {
  return cp == '.' || cp == '!' || cp == '?' || cp == ':' || cp == ';' || cp == 0x2026 || cp == 0x2022;
}
bool is_opening(char32_t cp) {
  return cp == '"' || cp == '\'' || cp == '(' || cp == '[' || cp == 0x201C || cp == 0x2018 ||
         cp == 0x00AB || cp == '-' || cp == 0x2013 || cp == 0x2014 || cp == '*' || cp == '_' ||
         cp == '>' || cp == '#';
}

bool capitalized(Shape s) { return s == Shape::kCapitalized || s == Shape::kAllCaps; }

// FNV-1a over the ASCII-lowercased bytes of a word (what lower_into gives for ASCII); false
// when the word is not ASCII.
bool ascii_fold_hash(std::string_view word, std::uint64_t& hash) {
  std::uint64_t h = 1469598103934665603ull;
  for (char ch : word) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) return false;
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
    h = (h ^ c) * 1099511628211ull;
  }
  hash = h;
  return true;
}

}  // namespace

// Per-line view: token text, lowercase forms (computed on demand) and sentence positions.
class NameFinder::LineContext {
 public:
  LineContext(std::string_view line, const std::vector<Token>& tokens) : line_(line), tokens_(tokens) {}

  std::size_t size() const { return tokens_.size(); }
  const Token& at(std::size_t i) const { return tokens_[i]; }
  std::string_view text(std::size_t i) const {
    return line_.substr(tokens_[i].begin, tokens_[i].end - tokens_[i].begin);
  }
  std::string lower(std::size_t i) const {
    std::string out;
    lower_into(text(i), out);
    return out;
  }
  bool is_word(std::size_t i) const { return i < tokens_.size() && tokens_[i].word; }
  bool is_punct(std::size_t i, char32_t cp) const {
    return i < tokens_.size() && !tokens_[i].word && tokens_[i].punct == cp;
  }
  // Attached: no space between token i-1 and token i.
  bool attached(std::size_t i) const { return i < tokens_.size() && !tokens_[i].space_before; }

  // The previous word token, skipping an attached '.' ("Dr. X"); npos when there is none or
  // other punctuation is in between.
  std::size_t previous_word(std::size_t i) const {
    if (i == 0) return npos;
    std::size_t k = i - 1;
    if (!tokens_[k].word) {
      if (tokens_[k].punct != '.' || !attached(k) || k == 0) return npos;
      --k;
    }
    return tokens_[k].word ? k : npos;
  }

  bool sentence_initial(std::size_t i) const {
    std::size_t k = i;
    while (k > 0 && !tokens_[k - 1].word && is_opening(tokens_[k - 1].punct)) --k;
    if (k == 0) return true;
    const Token& p = tokens_[k - 1];
    if (p.word) return false;
    if (!is_sentence_end(p.punct)) return false;
    if (p.punct == '.' && k >= 2 && tokens_[k - 2].word && attached(k - 1)) {
      // "Dr. Okafor", "J. Smith": an abbreviation's full stop does not end the sentence.
      const std::string prev = lower(k - 2);
      if (titles().count(prev) || utf8::length(text(k - 2)) == 1) return false;
    }
    return true;
  }

  // Context before token i: a title or relation word (strong) or a verb of address.
  void context_before(std::size_t i, bool& strong, bool& address) const {
    strong = address = false;
    const std::size_t p = previous_word(i);
    if (p == npos) return;
    const std::string prev = lower(p);
    strong = (titles().count(prev) && capitalized(tokens_[p].shape)) || relations().count(prev);
    address = address_words().count(prev) > 0;
    const std::size_t pp = previous_word(p);
    if (pp != npos && address_pair(lower(pp), prev)) address = true;
  }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  std::string_view line_;
  const std::vector<Token>& tokens_;
};

NameFinder::NameFinder(const Roster& roster, const Gazetteer* gazetteer, NameOptions options)
    : gazetteer_(gazetteer), options_(std::move(options)) {
  for (const std::string& w : options_.keep_words) keep_words_.insert(utf8::to_lower(w));

  // Parts of people's names ("Maria" and "Santos" of "Maria Santos"): a part shared by two
  // people, or equal to another entry's form, cannot say who is meant; it is still replaced,
  // keyed by the part itself like an un-rostered name.
  std::unordered_map<std::string, int> part_owner;  // lowercase part -> entry, -1 if shared
  WordSet full_forms;
  for (const RosterEntry& e : roster.entries) {
    full_forms.insert(utf8::to_lower(e.name));
    for (const std::string& a : e.aliases) full_forms.insert(utf8::to_lower(a));
  }
  auto name_parts = [](const std::string& name) {
    std::vector<std::string> chunks;
    std::size_t start = 0;
    while (start < name.size()) {
      std::size_t end = name.find_first_of(" \t", start);
      if (end == std::string::npos) end = name.size();
      std::string chunk = name.substr(start, end - start);
      while (!chunk.empty() && (chunk.back() == ',' || chunk.back() == '.')) chunk.pop_back();
      if (!chunk.empty() && !titles().count(utf8::to_lower(chunk))) chunks.push_back(chunk);
      start = end + 1;
    }
    std::vector<std::string> parts;
    if (chunks.size() >= 2) {
      parts.push_back(chunks.front());
      parts.push_back(chunks.back());
    }
    return parts;
  };
  for (std::size_t i = 0; i < roster.entries.size(); ++i) {
    const RosterEntry& e = roster.entries[i];
    if (e.type != EntityType::kPerson) continue;
    for (const std::string& part : name_parts(e.name)) {
      std::string key = utf8::to_lower(part);
      if (full_forms.count(key)) continue;
      auto [it, fresh] = part_owner.emplace(key, static_cast<int>(i));
      if (!fresh && it->second != static_cast<int>(i)) it->second = -1;
    }
  }
  for (std::size_t i = 0; i < roster.entries.size(); ++i) {
    const RosterEntry& e = roster.entries[i];
    const bool enabled = (e.type == EntityType::kPerson && options_.persons) ||
                         (e.type == EntityType::kPlace && options_.places) ||
                         (e.type == EntityType::kOrg && options_.orgs);
    if (!enabled) continue;
    const std::string canonical = utf8::to_lower(e.name);
    add_phrase(e.name, e.type, canonical);
    for (const std::string& a : e.aliases) add_phrase(a, e.type, canonical);
    if (e.type != EntityType::kPerson) continue;
    for (const std::string& part : name_parts(e.name)) {
      std::string key = utf8::to_lower(part);
      auto it = part_owner.find(key);
      if (it == part_owner.end()) continue;
      add_phrase(part, e.type, it->second < 0 ? key : canonical);
      if (it->second < 0) part_owner.erase(it);  // add a shared part once
    }
  }
  // Longest form first: more tokens, then more bytes.
  for (auto& [first, list] : by_first_) {
    std::stable_sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) {
      const auto& pa = phrases_[a].tokens;
      const auto& pb = phrases_[b].tokens;
      if (pa.size() != pb.size()) return pa.size() > pb.size();
      return false;
    });
  }
}

void NameFinder::add_phrase(std::string_view form, EntityType type, std::string canonical) {
  std::vector<Token> tokens;
  tokenize(form, tokens);
  Phrase phrase;
  phrase.type = type;
  phrase.canonical = std::move(canonical);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (!t.word && t.punct == '.' && !t.space_before && i > 0) continue;  // "St." == "St"
    PhraseToken pt;
    pt.word = t.word;
    pt.space_before = t.space_before;
    if (t.word) {
      lower_into(form.substr(t.begin, t.end - t.begin), pt.text);
    } else {
      pt.text = is_apostrophe(t.punct) ? std::string("'") : std::string(form.substr(t.begin, t.end - t.begin));
    }
    phrase.tokens.push_back(std::move(pt));
  }
  if (phrase.tokens.empty() || !phrase.tokens.front().word) return;
  for (const PhraseToken& pt : phrase.tokens) phrase.words += pt.word;
  const std::string first = phrase.tokens.front().text;
  // Both cases of the first byte: lookups lowercase ASCII only on the way in.
  const auto b = static_cast<unsigned char>(first[0]);
  first_byte_[b] = true;
  if (b < 0x80) {
    first_byte_[static_cast<unsigned char>(std::toupper(b))] = true;
  } else {
    std::size_t pos = 0;
    std::string upper;
    utf8::append(upper, utf8::decode(utf8::to_upper(first), pos));
    first_byte_[static_cast<unsigned char>(upper[0])] = true;
  }
  max_first_bytes_ = std::max(max_first_bytes_, 4 * utf8::length(first));
  if (std::uint64_t h = 0; ascii_fold_hash(first, h)) first_bloom_.add(h);
  by_first_[first].push_back(static_cast<std::uint32_t>(phrases_.size()));
  phrases_.push_back(std::move(phrase));
}

int NameFinder::match_roster(const LineContext& ctx, std::size_t i, std::size_t& compound_begin,
                             std::size_t& end_token) const {
  if (by_first_.empty()) return -1;
  const Token& head = ctx.at(i);
  if (!first_byte_[static_cast<unsigned char>(ctx.text(i)[0])] || head.end - head.begin > max_first_bytes_) return -1;
  // An ASCII word's lowercase form is its bytes lowercased: no key, no lookup.
  if (std::uint64_t h = 0; ascii_fold_hash(ctx.text(i), h) && !first_bloom_.maybe(h)) return -1;
  std::string lower;
  lower_into(ctx.text(i), lower);
  auto it = by_first_.find(lower);
  if (it == by_first_.end()) return -1;
  std::string scratch;
  for (std::uint32_t index : it->second) {
    const Phrase& phrase = phrases_[index];
    std::size_t t = i + 1;
    bool ok = true;
    for (std::size_t k = 1; k < phrase.tokens.size() && ok; ++k) {
      const PhraseToken& pt = phrase.tokens[k];
      // An attached full stop in the text that the phrase does not have: "St. Anne's".
      if (ctx.is_punct(t, '.') && ctx.attached(t) && !(pt.text == ".")) ++t;
      if (t >= ctx.size() || ctx.at(t).word != pt.word || ctx.attached(t) == pt.space_before) {
        ok = false;
        break;
      }
      if (pt.word) {
        lower_into(ctx.text(t), scratch);
        ok = scratch == pt.text;
      } else {
        ok = is_apostrophe(ctx.at(t).punct) ? pt.text == "'" : ctx.text(t) == pt.text;
      }
      ++t;
    }
    if (!ok) continue;
    const std::size_t words = phrase.words;
    // A one-word form inside a hyphenated name ("Maria-Luisa", "Anne-Maria") is someone
    // else: the whole compound is replaced, keyed by itself, never left half in clear text.
    auto name_word = [&](std::size_t k) { return ctx.at(k).word && capitalized(ctx.at(k).shape); };
    compound_begin = i;
    if (words == 1) {
      while (t + 1 < ctx.size() && ctx.attached(t) && ctx.is_punct(t, '-') && ctx.attached(t + 1) && name_word(t + 1))
        t += 2;
      while (compound_begin >= 2 && ctx.attached(compound_begin) && ctx.is_punct(compound_begin - 1, '-') &&
             ctx.attached(compound_begin - 1) && name_word(compound_begin - 2))
        compound_begin -= 2;
      if (compound_begin != i || t != i + 1) {
        end_token = t;
        return static_cast<int>(index);
      }
    }
    if (words == 1) {
      // One-word forms: case and ambiguity rules.
      const Shape shape = ctx.at(i).shape;
      const bool common = common_words().count(lower) > 0;
      // The researcher put this name on the roster, so a rare dictionary sense of it
      // ("maria", "john") is no reason to leave it: only their own keep_words and words that
      // are frequent in ordinary English ("Grace", "Baker") need context.
      const bool ambiguous = keep_words_.count(lower) > 0 || frequent_ordinary_words().count(lower) > 0;
      if (phrase.type == EntityType::kPerson || common || ambiguous) {
        if (!capitalized(shape)) continue;
      }
      if (common || ambiguous) {
        bool strong = false, address = false;
        ctx.context_before(i, strong, address);
        const bool context = strong || address;
        if (!context && common) continue;
        if (!context && ctx.sentence_initial(i)) continue;
      }
    }
    end_token = t;
    return static_cast<int>(index);
  }
  return -1;
}

bool NameFinder::unknown_word(std::string_view lowercase) const {
  return gazetteer_ && options_.gazetteer && gazetteer_->has_english() && utf8::length(lowercase) >= 3 && !gazetteer_->lookup(lowercase) &&
         !gazetteer_->is_english(lowercase) && !common_words().count(lowercase) && !titles().count(lowercase) &&
         !relations().count(lowercase) && !roles().count(lowercase) && !keep_words_.count(lowercase);
}

void NameFinder::learn(const LineContext& ctx, std::size_t begin, std::size_t end, const std::string& canonical,
                       LearnedNames& learned) const {
  for (std::size_t k = begin; k < end; ++k) {
    if (!ctx.at(k).word || !capitalized(ctx.at(k).shape)) continue;
    std::string w = ctx.lower(k);
    if (unknown_word(w)) learned.names.emplace(std::move(w), canonical);
  }
}

bool NameFinder::find_unrostered(const LineContext& ctx, std::size_t i, std::size_t& end_token, bool& learnable,
                                 const LearnedNames* learned) const {
  learnable = false;
  const Token& tok = ctx.at(i);
  if (!capitalized(tok.shape)) return false;
  const std::string lower = ctx.lower(i);
  if (common_words().count(lower) || titles().count(lower) || relations().count(lower)) return false;

  // The head may be a compound: "Anne-Marie", "O'Brien" (not a possessive "'s").
  std::size_t head_end = i + 1;
  std::string compound = lower;
  while (head_end + 1 < ctx.size() && ctx.attached(head_end) && !ctx.at(head_end).word &&
         is_joiner(ctx.at(head_end).punct) && ctx.attached(head_end + 1) && ctx.at(head_end + 1).word &&
         capitalized(ctx.at(head_end + 1).shape)) {
    compound += is_apostrophe(ctx.at(head_end).punct) ? std::string("'") : std::string(ctx.text(head_end));
    compound += ctx.lower(head_end + 1);
    head_end += 2;
  }
  if (utf8::length(compound) < 2) return false;  // initials ("J.") are not names on their own
  std::uint8_t flags = 0;
  if (gazetteer_ && options_.gazetteer) {
    flags = gazetteer_->lookup(compound);
    if (!flags && head_end != i + 1) flags = gazetteer_->lookup(lower);
  }
  const bool given = flags & Gazetteer::kGiven, surname = flags & Gazetteer::kSurname;
  const bool ambiguous = (flags & Gazetteer::kAmbiguous) || keep_words_.count(lower) || keep_words_.count(compound);

  // Context before the head.
  bool strong = false, address = false;
  if (options_.context) ctx.context_before(i, strong, address);
  // The next word is an unambiguous name: "Rose Kowalski" (context for an ambiguous head).
  auto next_is_name = [&](std::size_t j) {
    if (!(gazetteer_ && options_.gazetteer) || j >= ctx.size() || !ctx.at(j).word ||
        !ctx.at(j).space_before || !capitalized(ctx.at(j).shape))
      return false;
    const std::uint8_t f = gazetteer_->lookup(ctx.lower(j));
    return (f & (Gazetteer::kGiven | Gazetteer::kSurname)) && !(f & Gazetteer::kAmbiguous) &&
           !common_words().count(ctx.lower(j));
  };

  // Unknown words: in no list at all, so context decides.
  const bool unknown = !flags && !ambiguous && unknown_word(compound);
  // "Siobhan, the deputy": an apposition naming a role or relation.
  auto apposition = [&] {
    std::size_t k = head_end;
    if (tok.shape != Shape::kCapitalized) return false;  // not an acronym: "ACAS, our adviser"
    if (!ctx.is_punct(k, ',') || !ctx.is_word(k + 1) || !determiners().count(ctx.lower(k + 1))) return false;
    for (std::size_t n = k + 2; n < k + 4 && ctx.is_word(n); ++n) {
      const std::string w = ctx.lower(n);
      if (relations().count(w) || roles().count(w)) return true;
    }
    return false;
  };
  // "Tendai Moyo": two unknown Capitalized words in a row.
  auto unknown_pair = [&] {
    const std::size_t j = head_end;
    if (tok.shape != Shape::kCapitalized || !ctx.is_word(j) || !ctx.at(j).space_before ||
        ctx.at(j).shape != Shape::kCapitalized)
      return false;
    return unknown_word(ctx.lower(j)) && !gazetteer_->is_place(ctx.text(j));
  };

  bool is_name;
  bool found_by_context = false;  // not merely a word learned earlier
  if (strong) is_name = true;  // "Dr. Okafor", "my sister Grace"
  else if (unknown) {
    if (learned && learned->names.count(compound)) is_name = true;
    else is_name = found_by_context = apposition() || next_is_name(head_end) || unknown_pair();
  }
  else if (!given && !surname) is_name = false;
  else if (ambiguous) is_name = address || next_is_name(head_end);
  else if (given) is_name = true;
  else is_name = address || !ctx.sentence_initial(i) || next_is_name(head_end);
  if (!is_name) return false;
  // An unknown word found by context teaches the name to the rest of the document. Ordinary
  // words, British spellings included, are never unknown, so a title-case heading of English
  // words ("Favourite Colour") teaches nothing.
  learnable = unknown && (strong || found_by_context);

  // Extend over following Capitalized words that are names or unknown words.
  std::size_t end = head_end;
  for (int extra = 0; extra < 2; ++extra) {
    if (end >= ctx.size() || !ctx.at(end).word || !ctx.at(end).space_before || !capitalized(ctx.at(end).shape))
      break;
    const std::string w = ctx.lower(end);
    if (common_words().count(w) || titles().count(w) || relations().count(w)) break;
    // Ordinary words extend a name only when they are surnames too ("Maria Baker").
    const std::uint8_t f = gazetteer_ ? gazetteer_->lookup(w) : 0;
    const bool ordinary = (f & Gazetteer::kAmbiguous) || keep_words_.count(w);
    if (ordinary && !(f & Gazetteer::kSurname)) break;
    std::size_t next = end + 1;
    while (next + 1 < ctx.size() && ctx.attached(next) && !ctx.at(next).word && is_joiner(ctx.at(next).punct) &&
           ctx.attached(next + 1) && ctx.at(next + 1).word && capitalized(ctx.at(next + 1).shape))
      next += 2;
    end = next;
  }
  end_token = end;
  return true;
}

bool NameFinder::find_place(const LineContext& ctx, std::size_t i, std::size_t& end_token) const {
  if (ctx.at(i).shape != Shape::kCapitalized || !gazetteer_->place_head(ctx.text(i))) return false;
  const std::string lower = ctx.lower(i);
  // A common word starts a place only as part of a longer name ("New York", "The Hague"), so
  // a capitalized word or a joiner must follow it.
  const bool common_head =
      common_words().count(lower) || titles().count(lower) || relations().count(lower) || keep_words_.count(lower);
  if (common_head && !(i + 1 < ctx.size() && (ctx.at(i + 1).word ? ctx.at(i + 1).shape == Shape::kCapitalized
                                                                   : is_joiner(ctx.at(i + 1).punct))))
    return false;
  std::string text(ctx.text(i));
  bool strong = false, address = false;
  if (options_.context) ctx.context_before(i, strong, address);
  if (strong) return false;  // "Dr. Kerala", "my son Dubai": a person
  // The longest place starting here: words joined by spaces, hyphens, apostrophes and dots
  // ("Rio de Janeiro", "Saint-Étienne", "St. Albans").
  std::size_t best = gazetteer_->is_place(text) ? i + 1 : 0;
  for (std::size_t k = i + 1, words = 1; k < ctx.size() && words < 6; ++k) {
    const Token& t = ctx.at(k);
    if (!t.word && !is_joiner(t.punct) && t.punct != '.') break;
    if (t.space_before) text += ' ';
    text += ctx.text(k);
    if (!gazetteer_->place_prefix(text)) break;
    if (t.word) {
      ++words;
      if (gazetteer_->is_place(text)) best = k + 1;
    }
  }
  if (!best || (common_head && best == i + 1)) return false;
  end_token = best;
  return true;
}

bool NameFinder::find_street(const LineContext& ctx, std::size_t i, std::size_t& end_token) const {
  // Cheap tests on the raw text first: this runs for every word.
  const Token& tok = ctx.at(i);
  auto house_number = [&](std::size_t k) {
    if (!ctx.is_word(k) || ctx.at(k).shape != Shape::kOther) return false;
    const std::string_view t = ctx.text(k);
    return t.size() <= 5 && std::isdigit(static_cast<unsigned char>(t[0])) &&
           std::all_of(t.begin(), t.end() - 1, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  };
  const bool numbered = house_number(i);
  if (!numbered && tok.shape != Shape::kCapitalized) return false;
  if (!numbered) {
    // "Lindenhofstraße 4": a street compound (the suffix is lower case inside the word), with
    // its house number when one follows.
    const std::string_view text = ctx.text(i);
    for (std::string_view suffix : kStreetSuffixes) {
      if (text.size() >= suffix.size() + 3 && text.substr(text.size() - suffix.size()) == suffix &&
          !(gazetteer_ && gazetteer_->is_english(ctx.lower(i)))) {
        end_token = house_number(i + 1) && ctx.at(i + 1).space_before ? i + 2 : i + 1;
        return true;
      }
    }
  }
  // "12 Hawthorn Street", "Mill Lane", "45a Okafor Road": one to three Capitalized words, then
  // a street-type word.
  const std::size_t first = numbered ? i + 1 : i;
  std::size_t type_at = 0;
  for (std::size_t k = first; k < first + 4 && ctx.is_word(k) && ctx.at(k).shape == Shape::kCapitalized &&
                              (k == i || ctx.at(k).space_before);
       ++k) {
    const std::string_view t = ctx.text(k);
    if (k > first && t.size() <= 9 && street_types().count(std::string(1, static_cast<char>(std::tolower(
                                          static_cast<unsigned char>(t[0])))) + std::string(t.substr(1)))) {
      type_at = k;
      break;
    }
  }
  if (!type_at) return false;
  if (!numbered) {
    // "Mrs Sarah Lane", "Lois Lane": a person. A title or kinship word before it, a given
    // name first, or a word the policy keeps, and it is no address.
    bool strong = false, address = false;
    if (options_.context) ctx.context_before(i, strong, address);
    const std::string head = ctx.lower(first);
    if (strong || keep_words_.count(head) || (gazetteer_ && (gazetteer_->lookup(head) & Gazetteer::kGiven)))
      return false;
  }
  const std::string type = ctx.lower(type_at);
  if (!numbered && street_types_numbered_only().count(type)) return false;
  if (!numbered && type_at == first + 1 && generic_street_names().count(ctx.lower(first))) return false;
  for (std::size_t k = first; k < type_at; ++k)
    if (common_words().count(ctx.lower(k)) && !(numbered && k == first)) return false;
  if (numbered) {
    // A roster address inside ("12 Hawthorn Street"): the roster names it; the number stays.
    std::size_t b = first, e = first;
    if (match_roster(ctx, first, b, e) >= 0 && e >= type_at + 1) return false;
  }
  end_token = type_at + 1;
  return true;
}

bool NameFinder::find_speaker(const LineContext& ctx, std::size_t i, std::size_t& end_token) const {
  auto candidate = [&](std::size_t k) {
    const Token& t = ctx.at(k);
    if (!t.word || t.shape == Shape::kOther) return false;
    const std::string w = ctx.lower(k);
    if (common_words().count(w) || titles().count(w) || relations().count(w)) return false;
    if (t.shape == Shape::kLower) {
      const std::uint8_t f = gazetteer_ ? gazetteer_->lookup(w) : 0;
      return (f & (Gazetteer::kGiven | Gazetteer::kSurname)) && !(f & Gazetteer::kAmbiguous);
    }
    return true;
  };
  if (!candidate(i)) return false;
  std::size_t end = i + 1;
  while (end < ctx.size()) {
    if (ctx.at(end).word && ctx.at(end).space_before && candidate(end)) {
      ++end;
    } else if (end + 1 < ctx.size() && ctx.attached(end) && !ctx.at(end).word && is_joiner(ctx.at(end).punct) &&
               ctx.attached(end + 1) && ctx.at(end + 1).word) {
      end += 2;
    } else {
      break;
    }
  }
  end_token = end;
  return true;
}

void NameFinder::find(std::string_view line, const std::vector<Token>& tokens, std::size_t base,
                      bool speaker, std::vector<Detection>& out, LearnedNames* learned) const {
  LineContext ctx(line, tokens);
  const bool unrostered = options_.persons && ((gazetteer_ && options_.gazetteer && !gazetteer_->empty()) || options_.context);
  const bool places = options_.places && !speaker;  // street addresses need no list
  const bool place_list = places && gazetteer_ && options_.gazetteer && gazetteer_->has_places();
  // Keyed by the lowercase full form, spaces collapsed, apostrophes folded.
  auto canonical_of = [&](std::size_t from, std::size_t to) {
    std::string canonical;
    for (std::size_t k = from; k < to; ++k) {
      if (k > from && tokens[k].space_before) canonical.push_back(' ');
      std::string part;
      if (tokens[k].word) lower_into(ctx.text(k), part);
      else part = is_apostrophe(tokens[k].punct) ? std::string("'") : std::string(ctx.text(k));
      canonical += part;
    }
    return canonical;
  };
  auto emit = [&](std::size_t from, std::size_t to, EntityType type, std::string canonical) {
    Detection d;
    d.begin = base + tokens[from].begin;
    d.end = base + tokens[to - 1].end;
    d.type = type;
    d.priority = kPriorityName;
    d.canonical = std::move(canonical);
    out.push_back(std::move(d));
  };
  std::size_t i = 0;
  while (i < ctx.size()) {
    if (!ctx.at(i).word) {
      ++i;
      continue;
    }
    std::size_t end = i + 1, begin = i;
    const int phrase = match_roster(ctx, i, begin, end);
    if (phrase >= 0) {
      Detection d;
      d.begin = base + tokens[begin].begin;
      d.end = base + tokens[end - 1].end;
      d.type = phrases_[static_cast<std::size_t>(phrase)].type;
      d.priority = kPriorityRoster;
      const Phrase& matched = phrases_[static_cast<std::size_t>(phrase)];
      if (begin != i || (matched.words == 1 && end != i + 1)) {
        // A hyphenated compound around a one-word form: keyed by the compound itself.
        lower_into(line.substr(tokens[begin].begin, tokens[end - 1].end - tokens[begin].begin), d.canonical);
      } else {
        d.canonical = matched.canonical;
      }
      out.push_back(std::move(d));
      i = end;
      continue;
    }
    if ((places && find_street(ctx, i, end)) || (place_list && find_place(ctx, i, end))) {
      emit(i, end, EntityType::kPlace, canonical_of(i, end));
      i = end;
      continue;
    }
    bool found = false, learnable = false;
    if (speaker && options_.persons && options_.context) {
      found = find_speaker(ctx, i, end);
      learnable = found;
    } else if (unrostered) {
      found = find_unrostered(ctx, i, end, learnable, learned);
    }
    if (found) {
      std::string canonical = canonical_of(i, end);
      if (learned) {
        // A word learned from a longer name ("Moyo" of "Tendai Moyo") is keyed by that name.
        auto it = end == i + 1 ? learned->names.find(canonical) : learned->names.end();
        if (it != learned->names.end()) canonical = it->second;
        else if (learnable && !learned->frozen) learn(ctx, i, end, canonical, *learned);
      }
      emit(i, end, EntityType::kPerson, std::move(canonical));
      i = end;
      continue;
    }
    ++i;
  }
}

}  // namespace cqda::anonymize
