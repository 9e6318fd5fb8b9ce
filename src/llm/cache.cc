#include "llm/cache.h"

#include <system_error>

#include "common/files.h"
#include "common/json.h"

namespace cqda::llm {
namespace {

constexpr std::size_t kMaxEntryBytes = 16u << 20;

bool valid_key(const std::string& key) {
  if (key.size() != 64) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::filesystem::path ResponseCache::path_for(const std::string& cache_key) const {
  return folder_ / cache_key.substr(0, 2) / (cache_key + ".json");
}

std::optional<ChatAnswer> ResponseCache::find(const std::string& cache_key) const {
  if (!valid_key(cache_key)) return std::nullopt;
  std::error_code ec;
  const auto path = path_for(cache_key);
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  auto text = read_file(path, kMaxEntryBytes);
  if (!text) return std::nullopt;
  auto j = parse_json(*text, path.string(), JsonLimits{kMaxEntryBytes, 8, false});
  if (!j || !j->is_object() || j->value("cache_key", "") != cache_key) return std::nullopt;
  auto content = j->find("content");
  if (content == j->end() || !content->is_string()) return std::nullopt;
  ChatAnswer answer;
  answer.content = content->get<std::string>();
  answer.prompt_tokens = j->value("prompt_tokens", std::uint64_t{0});
  answer.completion_tokens = j->value("completion_tokens", std::uint64_t{0});
  answer.usage_reported = j->value("usage_reported", false);
  return answer;
}

Status ResponseCache::store(const std::string& cache_key, const ChatAnswer& answer, const std::string& model) const {
  if (!valid_key(cache_key)) return make_error("invalid cache key");
  const auto path = path_for(cache_key);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return make_error("cannot create " + path.parent_path().string() + ": " + ec.message());
  std::filesystem::permissions(folder_, std::filesystem::perms::owner_all, ec);
  Json entry = {{"cache_key", cache_key},           {"model", model},
                {"content", answer.content},        {"prompt_tokens", answer.prompt_tokens},
                {"completion_tokens", answer.completion_tokens}, {"usage_reported", answer.usage_reported}};
  return write_file_atomic(path, entry.dump(), 0600);
}

}  // namespace cqda::llm
