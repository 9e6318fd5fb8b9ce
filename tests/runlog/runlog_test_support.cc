#include "runlog_test_support.h"

#include <memory>
#include <stdexcept>

#include "runlog/record.h"
#include "support/test_support.h"

namespace cqda::runlog::test {

Ed25519Seed fixed_seed(std::uint8_t first) {
  Ed25519Seed seed{};
  for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(first + i);
  return seed;
}

SigningKey fixed_key(std::uint8_t first) {
  Result<SigningKey> key = SigningKey::from_seed(fixed_seed(first));
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(key).value();
}

std::function<std::chrono::system_clock::time_point()> pinned_clock(long offset_ms) {
  // 2025-03-04T05:06:07.089Z
  auto start =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1741064767089LL + offset_ms));
  auto ticks = std::make_shared<long>(0);
  return [start, ticks] { return start + std::chrono::milliseconds((*ticks)++); };
}

std::string write_sample_log(const std::filesystem::path& file, const std::string& run_id,
                             const SigningKey* key, long clock_offset_ms, int variant) {
  Result<RunLogWriter> writer = RunLogWriter::create(
      file, run_id, key, WriterOptions{.clock = pinned_clock(clock_offset_ms)});
  if (!writer) throw std::runtime_error(writer.error().message);
  auto must = [](Status s) {
    if (!s) throw std::runtime_error(s.error().message);
  };
  const std::string suffix = variant == 0 ? "" : "-v" + std::to_string(variant);
  must(writer->append(event::kRunStart, Json{{"tool", "cqda"},
                                             {"version", "0.1.0" + suffix},
                                             {"policy_sha256", std::string(64, 'a')},
                                             {"codebook_sha256", std::string(64, 'b')}}));
  must(writer->append(
      event::kInput,
      Json{{"path", "interviews/p01.txt"}, {"sha256", std::string(64, 'c')}, {"bytes", 1234}}));
  must(writer->append(event::kInput, Json{{"path", "interviews/p02 \"Zoë\".txt"},
                                          {"sha256", std::string(64, 'd')},
                                          {"bytes", 99}}));
  must(writer->append(event::kInputRefused, Json{{"path", "interviews/.hidden"},
                                                 {"reason", "hidden files are never read"}}));
  must(writer->append(event::kAnonymization, Json{{"person", 12}, {"email", 3}, {"place", 0}}));
  must(writer->append(
      event::kExport,
      Json{{"path", "report.md"}, {"format", "markdown"}, {"sha256", std::string(64, 'e')}}));
  must(writer->append(event::kRunEnd, Json{{"outcome", "success"}, {"codings", 42}}));
  must(writer->seal());
  return cqda::test::slurp(file);
}

std::vector<std::string> split_lines(const std::string& content) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t end = content.find('\n', pos);
    if (end == std::string::npos) {
      lines.push_back(content.substr(pos));
      break;
    }
    lines.push_back(content.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

}  // namespace cqda::runlog::test
