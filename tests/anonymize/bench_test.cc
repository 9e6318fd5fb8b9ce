// Throughput on generated English prose: run with `test_anonymize "[.bench]"`.
// Hidden from the normal run; it prints MB/s and asserts nothing about time.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <catch2/catch.hpp>

#include "anonymize_test_support.h"

using namespace cqda::anonymize;
using namespace cqda::anonymize::testing;

namespace {

std::string make_prose(std::size_t bytes) {
  static const char* sentences[] = {
      "I think the support we got from the care home was really good, especially in the first weeks.",
      "We talked about it a lot at home, and my sister Grace said we should ask for help sooner.",
      "Maria came round on Tuesday and we went through the forms together, which took hours.",
      "It was in May, I think, when things started to change for the better.",
      "Dr. Okafor explained the options, but honestly I will never forget how rushed it all felt.",
      "You can reach the office on 020 7946 0958 or write to info@example.org if you need to.",
      "The waiting list was about 18 months, and in 2019 it was even longer than that.",
      "Joanna and her husband moved to Leeds after the second appointment.",
      "Hope is what keeps us going, and the nurses were kind even when they were tired.",
      "We paid £10.42 for the parking each time, which adds up over a year.",
      "Frank and honest conversations with the staff made a real difference to him.",
      "My manager let me work from home two days a week so I could be there.",
  };
  std::mt19937 rng(42);
  std::string out;
  out.reserve(bytes + 200);
  while (out.size() < bytes) {
    for (int i = 0; i < 5; ++i) {
      out += sentences[rng() % (sizeof sentences / sizeof *sentences)];
      out += ' ';
    }
    out += '\n';
  }
  return out;
}

std::string roster_of_20() {
  static const char* names[] = {"Maria Santos", "Amara Okafor", "Tomasz Kowalski", "Grace Baker",
                                "John Smith", "Priya Patel", "Ahmed Hassan", "Sarah Jones",
                                "David Brown", "Anne-Marie Dupont", "Łukasz Nowak", "Zoë Müller",
                                "José García", "Nguyễn Văn An", "Fatima Ali", "Liam Murphy",
                                "Chloe Martin", "Olusegun Adeyemi", "Ingrid Larsen", "Kenji Sato"};
  std::string csv = "name,aliases,type\n";
  for (const char* n : names) csv += std::string(n) + ",,person\n";
  return csv;
}

// A gazetteer the size of the bundled one when it exists; otherwise generated names.
Gazetteer bench_gazetteer() {
  Gazetteer bundled = Gazetteer::bundled();
  if (!bundled.empty()) return bundled;
  std::string given, surnames;
  std::mt19937 rng(7);
  for (int i = 0; i < 12000; ++i) {
    std::string n(1, static_cast<char>('A' + rng() % 26));
    for (int k = 0; k < 5; ++k) n.push_back(static_cast<char>('a' + rng() % 26));
    (i % 2 ? given : surnames) += n + "\n";
  }
  given += "Joanna\nMaria\nGrace\nHope\nFrank\nWill\nMay\n";
  return Gazetteer::from_lists(given, surnames, "grace\nhope\nfrank\nwill\nmay\n");
}

}  // namespace

TEST_CASE("anonymizer throughput", "[.bench]") {
  const std::string prose = make_prose(20u << 20);
  Vault vault = Vault::in_memory();
  Anonymizer anonymizer(policy_with(cqda::policy::Action::kPseudonymize), roster_of(roster_of_20()),
                        bench_gazetteer(), vault);
  std::vector<std::size_t> chunks{prose.size(), 2000};
  if (const char* only = std::getenv("CQDA_BENCH_CHUNK")) chunks = {std::stoul(only)};
  for (std::size_t chunk : chunks) {
    const auto start = std::chrono::steady_clock::now();
    std::size_t replaced = 0;
    for (std::size_t pos = 0; pos < prose.size(); pos += chunk) {
      auto r = anonymizer.anonymize(std::string_view(prose).substr(pos, chunk));
      for (const auto& [k, n] : r.counts) replaced += n;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("anonymize: %.1f MB in %.2f s = %.1f MB/s (calls of %zu bytes, %zu replacements)\n",
                static_cast<double>(prose.size()) / 1e6, seconds,
                static_cast<double>(prose.size()) / 1e6 / seconds, chunk, replaced);
  }
}
