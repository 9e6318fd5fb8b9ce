#include "llm/settings.h"

#include <cstdlib>
#include <system_error>

#include "common/files.h"
#include "egress/egress.h"

namespace cqda::llm {

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::kOffline: return "offline";
    case Backend::kOpenAi: return "openai";
    case Backend::kOllama: return "ollama";
  }
  return "offline";
}

std::optional<Backend> backend_from_name(std::string_view name) {
  if (name == "offline") return Backend::kOffline;
  if (name == "openai") return Backend::kOpenAi;
  if (name == "ollama") return Backend::kOllama;
  return std::nullopt;
}

std::string Settings::endpoint_url() const {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (backend == Backend::kOllama) return base + "/api/chat";
  return base + "/chat/completions" + (api_version.empty() ? "" : "?api-version=" + api_version);
}

std::optional<KeyHeader> key_header_from_name(std::string_view name) {
  if (name == "bearer") return KeyHeader::kBearer;
  if (name == "api-key") return KeyHeader::kApiKey;
  return std::nullopt;
}

std::string Settings::coder_name() const { return "llm:" + model; }

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// A key file holds the key and perhaps a trailing newline.
std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && text[start] == ' ') ++start;
  return text.substr(start);
}

}  // namespace

Status complete_settings(Settings& settings, bool backend_from_flag, const std::filesystem::path& secret_file) {
  if (!backend_from_flag) {
    if (std::string name = env("LLM_BACKEND"); !name.empty()) {
      auto backend = backend_from_name(name);
      if (!backend) return make_error("LLM_BACKEND=" + name + " is not a backend (offline, openai or ollama)");
      settings.backend = *backend;
    }
  }
  if (settings.backend == Backend::kOffline) return Status::success();
  if (settings.base_url.empty()) settings.base_url = env("LLM_BASE_URL");
  if (settings.model.empty()) settings.model = env("LLM_MODEL");
  if (settings.base_url.empty())
    return make_error("the " + std::string(backend_name(settings.backend)) +
                      " backend needs a base URL: --llm-base-url or LLM_BASE_URL");
  if (settings.model.empty()) return make_error("the LLM backend needs a model: --llm-model or LLM_MODEL");
  // The base URL is logged and shown in reports; a query could carry a key, and the path is
  // appended after it.
  if (settings.base_url.find_first_of("?#") != std::string::npos)
    return make_error("the LLM base URL must not have a query or fragment: " + settings.base_url.substr(0, settings.base_url.find_first_of("?#")) + "...");
  if (secret_present(secret_file)) {
    auto key = read_file(secret_file, 64 * 1024);
    if (!key) return make_error("cannot read the API key: " + key.error().message);
    settings.api_key = trim(std::move(key).value());
  } else {
    settings.api_key = trim(env("OPENAI_API_KEY"));
  }
  for (char c : settings.api_key)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
      return make_error("the API key contains a character that cannot go into an HTTP header");

  if (settings.api_version.empty()) settings.api_version = env("LLM_API_VERSION");
  if (settings.api_version.size() > 40 ||
      settings.api_version.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
          std::string::npos)
    return make_error("the API version must be letters, digits, '.', '-' or '_' (e.g. 2024-10-21)");
  if (!settings.api_version.empty() && settings.backend != Backend::kOpenAi)
    return make_error("an API version (--llm-api-version, LLM_API_VERSION) is only for the openai backend");
  if (!settings.key_header) {
    if (std::string name = env("LLM_API_KEY_HEADER"); !name.empty()) {
      settings.key_header = key_header_from_name(name);
      if (!settings.key_header) return make_error("LLM_API_KEY_HEADER=" + name + " is not bearer or api-key");
    }
  }
  if (!settings.key_header) {
    // Azure OpenAI takes its key as `api-key`; everything else as a bearer token.
    auto url = egress::parse_url(settings.base_url);
    const std::string host = url ? url->host : "";
    const bool azure = host.size() > 10 && host.compare(host.size() - 10, 10, ".azure.com") == 0;
    settings.key_header = azure ? KeyHeader::kApiKey : KeyHeader::kBearer;
  }
  return Status::success();
}

}  // namespace cqda::llm
