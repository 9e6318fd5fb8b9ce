// Files compiled into the binary so that it needs nothing from the file system to know its
// own schemas, default policy and name lists (the container's root is read-only and minimal).
#pragma once

#include <string_view>
#include <vector>

namespace cqda::resources {

// Content of an embedded file by its path in the source tree, e.g.
// "schemas/policy.schema.json"; empty when there is no such resource.
std::string_view get(std::string_view path);

// Paths of every embedded resource.
std::vector<std::string_view> list();

}  // namespace cqda::resources
