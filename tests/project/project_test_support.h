// Shared fixtures for the project store tests: the example codebook and short-hand codings.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "codebook/codebook.h"
#include "project/store.h"
#include "support/test_support.h"

namespace cqda::project::test {

inline const codebook::Codebook& example_codebook() {
  static const codebook::Codebook book = [] {
    auto loaded = codebook::load_codebook_file(cqda::test::source_dir() / "examples/codebook.json");
    if (!loaded) throw std::runtime_error(loaded.error().message);
    return std::move(loaded).value();
  }();
  return book;
}

inline std::filesystem::path project_file(const cqda::test::TempDir& tmp) {
  return tmp / "out/project/cqda-project.sqlite3";
}

inline std::unique_ptr<Store> open_store(const std::filesystem::path& file) {
  auto store = Store::open(file, example_codebook());
  INFO((store ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

// A coding of `quote` in a segment of document "interviews-p01-txt".
inline NewCoding quote_coding(const std::string& segment_id, const std::string& text,
                              const std::string& quote, std::vector<std::string> codes,
                              const std::string& coder = "ana") {
  NewCoding c;
  c.document_id = "interviews-p01-txt";
  c.segment_id = segment_id;
  c.segment_text = text;
  c.segment_start = 100;
  c.quote = quote;
  c.code_ids = std::move(codes);
  c.coder = coder;
  return c;
}

inline Coding add_one(Store& store, const NewCoding& coding) {
  auto added = store.add_coding(coding);
  INFO((added ? std::string() : added.error().message));
  REQUIRE(added.ok());
  REQUIRE(added->size() == 1);
  return added->front();
}

inline std::string error_of(const Status& status) { return status ? "" : status.error().message; }
template <typename T>
std::string error_of(const Result<T>& result) {
  return result ? "" : result.error().message;
}

}  // namespace cqda::project::test
