#include "pipeline/progress.h"

namespace cqda::pipeline {

Progress::Progress(std::size_t total_documents, bool enabled)
    : total_(total_documents), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::uint64_t bytes) {
  ++done_;
  bytes_ += bytes;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ > std::chrono::milliseconds(100) || done_ == total_) {
    last_draw_ = now;
    draw();
  }
}

void Progress::draw() {
  if (!enabled_) return;
  double mb = static_cast<double>(bytes_) / 1e6;
  double s = seconds();
  std::fprintf(stderr, "\r\033[K  %zu/%zu documents  %.1f MB  %.1f MB/s", done_, total_, mb, s > 0 ? mb / s : 0.0);
  std::fflush(stderr);
}

void Progress::finish() {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace cqda::pipeline
