// The response cache: a model's checked answer to one request, stored under the cache folder
// by the request's cache key (a hash of backend, endpoint and the whole request body, which
// holds the model, its parameters and the prompt). A rerun on unchanged input finds every
// answer here and sends nothing; a run that stopped part-way resumes without re-sending what
// succeeded. Only answers that passed the schema check are stored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"
#include "llm/coding_prompt.h"

namespace cqda::llm {

class ResponseCache {
 public:
  // `folder` is <cache>/llm; created (0700) on the first store.
  explicit ResponseCache(std::filesystem::path folder) : folder_(std::move(folder)) {}

  // The stored answer, or nullopt when there is none or it is unreadable or malformed
  // (then the request is simply sent again).
  std::optional<ChatAnswer> find(const std::string& cache_key) const;
  // Atomically (temporary file, fsync, rename).
  Status store(const std::string& cache_key, const ChatAnswer& answer, const std::string& model) const;

  std::filesystem::path path_for(const std::string& cache_key) const;

 private:
  std::filesystem::path folder_;
};

}  // namespace cqda::llm
