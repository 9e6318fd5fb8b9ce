// Which model endpoint codes, and how: the backend, its base URL and model, and the limits of
// a run (batch size, requests in flight, retries). `cqda run` and `cqda serve` fill this from
// their flags, else from LLM_BACKEND / LLM_BASE_URL / LLM_MODEL; the API key comes from
// /run/secrets/openai_api_key or OPENAI_API_KEY and is never logged or written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cqda::llm {

enum class Backend {
  kOffline,  // the rule-based coder; no endpoint, no egress
  kOpenAi,   // OpenAI Chat Completions and compatible servers (LM Studio, vLLM, llama.cpp)
  kOllama,   // Ollama's native /api/chat
};
std::string_view backend_name(Backend backend);  // "offline", "openai", "ollama"
std::optional<Backend> backend_from_name(std::string_view name);

// How the API key is sent: `Authorization: Bearer KEY` (OpenAI and most servers) or
// `api-key: KEY` (Azure OpenAI).
enum class KeyHeader { kBearer, kApiKey };

struct Settings {
  Backend backend = Backend::kOffline;
  std::string base_url;  // "https://api.openai.com/v1", "http://ollama:11434"
  std::string model;
  double temperature = 0;
  // Structured outputs: a JSON Schema response format (OpenAI `response_format`, Ollama
  // `format`). Off for endpoints that reject it; the answer is validated either way.
  bool structured_outputs = true;
  std::size_t batch_segments = 20;     // segments per request at most
  std::size_t batch_characters = 12000;  // characters of segment text per request at most
  unsigned in_flight = 4;              // requests at once (one LLM-caller process each)
  unsigned max_attempts = 5;           // per request: network failures, 429 and 5xx
  unsigned invalid_answer_retries = 2; // an answer that is not valid JSON of the schema
  std::uint32_t timeout_ms = 120000;   // one request, connect to last byte
  std::uint32_t backoff_ms = 1000;     // first retry delay; doubles, with jitter
  std::uint32_t max_retry_after_s = 120;  // a longer Retry-After ends the run instead
  std::uint32_t max_response_bytes = 4u << 20;
  std::optional<std::filesystem::path> ca_file;  // extra trust anchors (private endpoints)
  std::string api_key;  // secret: never logged, never written
  std::optional<KeyHeader> key_header;  // unset: api-key for *.azure.com hosts, else bearer
  // Azure OpenAI's `api-version` query parameter ("2024-10-21"); empty: none.
  std::string api_version;

  // The URL requests go to: <base>/chat/completions[?api-version=V], or <base>/api/chat for
  // Ollama.
  std::string endpoint_url() const;
  std::string coder_name() const;  // "llm:<model>"
};

// Fills `settings` from the environment where the flags left it empty: LLM_BACKEND,
// LLM_BASE_URL, LLM_MODEL, LLM_API_VERSION, LLM_API_KEY_HEADER; the key from `secret_file`
// (if it exists) else OPENAI_API_KEY; the key header from the host when still unset.
// Errors: an unknown backend, an unreadable secret file, an LLM backend without a base URL
// or model, an api-version or key header that is not one.
Status complete_settings(Settings& settings, bool backend_from_flag, const std::filesystem::path& secret_file);

std::optional<KeyHeader> key_header_from_name(std::string_view name);  // "bearer", "api-key"

}  // namespace cqda::llm
