// anonymize_bench: throughput and recall of cqda::anonymize::Anonymizer on the generated
// benchmark corpus (bench/generate_corpus.py).
//
//   anonymize_bench --corpus DIR --truth truth.json --roster roster.csv
//                   [--policy FILE] [--limit-mb N] [--runs 3] [--out results.json]
//
// Every file listed in truth.json is read into memory first; only the anonymize() calls are
// timed, one file after another on one thread, with a fresh vault and anonymizer per run
// (built outside the timer). The best of --runs is reported. MB are 10^6 bytes.
//
// The scores use the same definitions as bench/js/run.mjs (see docs/BENCHMARKS.md):
//  * recall per type, per value: a (file, planted value) pair counts as removed when the value
//    no longer occurs anywhere in that file's output; per occurrence: occurrences in the
//    input minus those left in the output. An occurrence is a byte-exact, case-sensitive
//    match whose alphanumeric ends are not glued to other letters or digits.
//  * ordinary words kept: occurrences of each planted context ("in May", "at 7.30") in the
//    output, capped by its occurrences in the input, over its occurrences in the input.
// Benchmarks measure; nothing here asserts a time.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "anonymize/anonymizer.h"
#include "anonymize/gazetteer.h"
#include "anonymize/roster.h"
#include "anonymize/vault.h"
#include "bench_metrics.h"
#include "policy/policy.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace anon = cqda::anonymize;

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int fail(const std::string& message) {
  std::fprintf(stderr, "anonymize_bench: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path corpus_dir, truth_path, roster_path, out_path;
  std::optional<fs::path> policy_path;
  double limit_mb = 0;
  int runs = 3;

  CLI::App app{"Times cqda's anonymizer on the benchmark corpus and scores it against truth.json"};
  app.add_option("--corpus", corpus_dir, "corpus folder (the files truth.json lists)")->required();
  app.add_option("--truth", truth_path, "truth.json from bench/generate_corpus.py")->required();
  app.add_option("--roster", roster_path, "roster.csv from bench/generate_corpus.py")->required();
  app.add_option("--policy", policy_path, "policy file (default: the bundled default policy)");
  app.add_option("--limit-mb", limit_mb, "use only the first files up to this many MB (0: all)");
  app.add_option("--runs", runs, "timed runs; the best is reported")->check(CLI::Range(1, 20));
  app.add_option("--out", out_path, "write the results as JSON here");
  CLI11_PARSE(app, argc, argv);

  // ---- inputs (untimed) ----
  auto truth_text = read_file(truth_path);
  if (!truth_text) return fail("cannot read " + truth_path.string());
  json truth = json::parse(*truth_text, nullptr, false);
  if (truth.is_discarded() || !truth.contains("files")) {
    return fail(truth_path.string() + ": not a truth file from bench/generate_corpus.py");
  }

  cqda::policy::Policy policy = cqda::policy::default_policy();
  if (policy_path) {
    auto loaded = cqda::policy::load_policy_file(policy_path->string());
    if (!loaded) return fail(loaded.error().message);
    policy = std::move(*loaded);
  }
  auto roster_text = read_file(roster_path);
  if (!roster_text) return fail("cannot read " + roster_path.string());
  auto roster = anon::parse_roster_csv(*roster_text);
  if (!roster) return fail(roster.error().message);
  const anon::Gazetteer gazetteer = anon::Gazetteer::bundled();

  std::vector<bench::FileCase> files;
  std::size_t total_bytes = 0;
  const auto limit_bytes = static_cast<std::size_t>(limit_mb * 1e6);
  for (const json& f : truth["files"]) {
    if (limit_bytes != 0 && total_bytes >= limit_bytes) break;
    bench::FileCase fc;
    fc.path = f.at("path").get<std::string>();
    auto text = read_file(corpus_dir / fc.path);
    if (!text) return fail("cannot read " + (corpus_dir / fc.path).string());
    fc.input = std::move(*text);
    for (const json& id : f.at("identifiers")) {
      std::string group = id.at("type").get<std::string>();
      if (group == "person") {
        group = id.value("rostered", false) ? "person_rostered" : "person_unrostered";
      }
      fc.identifiers.push_back({id.at("value").get<std::string>(), group, id.at("count").get<long>()});
    }
    for (const json& k : f.at("kept")) {
      fc.kept.push_back({k.at("context").get<std::string>(), k.at("word").get<std::string>(),
                         k.at("count").get<long>()});
    }
    total_bytes += fc.input.size();
    files.push_back(std::move(fc));
  }

  // ---- timed runs ----
  std::vector<double> seconds;
  std::map<std::string, std::size_t> counts;
  for (int run = 0; run < runs; ++run) {
    anon::Vault vault = anon::Vault::in_memory();
    anon::Anonymizer anonymizer(policy.anonymization, roster.value(), gazetteer, vault);
    if (!anonymizer.status().ok()) return fail(anonymizer.status().error().message);
    std::vector<std::string> outputs(files.size());
    std::map<std::string, std::size_t> run_counts;

    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < files.size(); ++i) {
      anon::AnonymizedText result = anonymizer.anonymize(files[i].input);
      outputs[i] = std::move(result.text);
      for (const auto& [type, n] : result.counts) run_counts[type] += n;
    }
    const auto stop = std::chrono::steady_clock::now();
    seconds.push_back(std::chrono::duration<double>(stop - start).count());

    for (std::size_t i = 0; i < files.size(); ++i) files[i].output = std::move(outputs[i]);
    counts = std::move(run_counts);
  }
  const double best = *std::min_element(seconds.begin(), seconds.end());

  // ---- scores (untimed) ----
  json result = bench::score(files);
  result["tool"] = "cqda anonymizer";
  result["library"] = "cqda::anonymize::Anonymizer";
  result["policy"] = policy_path ? policy_path->string() : std::string("bundled default policy");
  result["threads"] = 1;
  result["files"] = files.size();
  result["corpus_bytes"] = total_bytes;
  std::size_t output_bytes = 0;
  for (const auto& f : files) output_bytes += f.output.size();
  result["output_bytes"] = output_bytes;
  result["runs_seconds"] = seconds;
  result["best_seconds"] = best;
  result["mb_per_s"] = static_cast<double>(total_bytes) / 1e6 / best;
  result["replacements"] = counts;

  std::printf("cqda anonymizer: %zu files, %.1f MB, best of %d: %.3f s = %.1f MB/s\n", files.size(),
              total_bytes / 1e6, runs, best, result["mb_per_s"].get<double>());
  bench::print_summary(result);
  if (!out_path.empty()) {
    std::ofstream out(out_path);
    out << result.dump(1) << "\n";
    if (!out) return fail("cannot write " + out_path.string());
  }
  return 0;
}
