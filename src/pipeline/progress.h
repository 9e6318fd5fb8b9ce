// Progress on a terminal for long runs: documents, megabytes and rate on one line that is
// rewritten in place. Silent when stderr is not a terminal (CI logs, pipes).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cqda::pipeline {

class Progress {
 public:
  Progress(std::size_t total_documents, bool enabled);
  void advance(std::uint64_t bytes);  // one more document done
  void finish();                      // clears the line
  double seconds() const;

 private:
  void draw();
  std::size_t total_;
  std::size_t done_ = 0;
  std::uint64_t bytes_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace cqda::pipeline
