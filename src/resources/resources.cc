#include "resources/resources.h"

#include "resources/embedded.h"

namespace cqda::resources {

std::string_view get(std::string_view path) {
  for (std::size_t i = 0; i < embedded::kCount; ++i) {
    if (embedded::kEntries[i].path == path) return embedded::kEntries[i].content;
  }
  return {};
}

std::vector<std::string_view> list() {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < embedded::kCount; ++i) out.push_back(embedded::kEntries[i].path);
  return out;
}

}  // namespace cqda::resources
