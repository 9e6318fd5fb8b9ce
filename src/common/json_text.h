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

#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"

namespace cqda {

// Appends `value` as compact JSON (objects of an unordered nlohmann::json in its key order).
void append_json_text(std::string& out, const Json& value);
void append_json_text(std::string& out, const nlohmann::json& value);
// The same, and false when a string was not valid UTF-8 (written with U+FFFD, as dump with
// `replace` does), for a writer that must refuse such text rather than change it.
bool append_json_text_checked(std::string& out, const Json& value);
bool append_json_text_checked(std::string& out, const nlohmann::json& value);

// `value` as compact JSON.
std::string json_text(const Json& value);

// Appends `text` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view text);

// Reads JSON text the way nlohmann's parser does, faster on long strings: the value it
// gives is the one Json::parse gives. It covers what our own writers produce — objects,
// arrays, strings with the short escapes, integers, true, false, null — and returns nullopt
// for anything else (a fraction or exponent, a \u escape, an integer of more than 18
// digits, invalid UTF-8, nesting deeper than `max_depth`, any syntax error), for the caller
// to hand to nlohmann, which then decides. For text from our own processes.
std::optional<Json> read_json_text(std::string_view text, std::size_t max_depth);

}  // namespace cqda
