// Compact JSON text for the hot paths (tool results, IPC replies, hashes of what was sent).
//
// The output is byte for byte what `value.dump(-1, ' ', false, Json::error_handler_t::replace)`
// writes — the form every hash in the run log is taken over — so the two can be mixed freely.
// nlohmann's serializer runs every byte of every string through a UTF-8 state machine and a
// switch; here runs of bytes that need nothing are copied whole, which matters for the pages
// of document text the MCP tools return. Strings that are not valid UTF-8 (rare: our text is
// validated at ingest) and floating-point numbers are handed to nlohmann, so its replacement
// and number formatting rules stay the only ones.
#pragma once

#include <string>
#include <string_view>

#include "common/json.h"

namespace cqda {

// Appends `value` as compact JSON.
void append_json_text(std::string& out, const Json& value);

// `value` as compact JSON.
std::string json_text(const Json& value);

// Appends `text` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view text);

}  // namespace cqda
