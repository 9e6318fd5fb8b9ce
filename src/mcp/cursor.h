// Opaque pagination cursors a server can verify: "<offset>.<MAC>" under a key that lives
// only in this process. A cursor from another server, an altered one, or one past the end
// of the list is refused (-32602), so clients cannot page into what they were not shown.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace cqda::mcp {

class CursorSigner {
 public:
  CursorSigner();  // a fresh random key
  ~CursorSigner();
  CursorSigner(const CursorSigner&) = delete;
  CursorSigner& operator=(const CursorSigner&) = delete;

  // `list` names the list (tools, resources…) so a cursor of one is not valid for another.
  std::string make(std::string_view list, std::size_t offset) const;
  std::optional<std::size_t> read(std::string_view list, const std::string& cursor, std::size_t size) const;

 private:
  std::string key_;
};

}  // namespace cqda::mcp
