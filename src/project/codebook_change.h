// One change to the codebook, planned against the current version without touching the
// database. The result is a complete new codebook: the edited document with its "version"
// bumped by one and a "changelog" entry appended, validated like any codebook file
// (codebook::load_codebook_text), so every stored version is schema-valid.
//
// Operations (docs/PROJECT-STATE.md has examples):
//   {"op":"add", "code":{...}, "category_id":"c"}       or with "parent_id":"p" (a child code)
//   {"op":"edit", "code_id":"x", "fields":{"definition":..., ...}}   null removes an optional field
//   {"op":"rename", "code_id":"old", "new_id":"new", "name"?:"..."}
//   {"op":"merge", "from":["a","b"], "into":"c"}    the merged codes are retired
//   {"op":"retire", "code_id":"x"}
//   {"op":"add_category", "category":{"id":..., "name":..., "description"?, "codes"?}}
// Unknown operations or members, unknown or clashing ids, and edits that would make the
// codebook invalid are refused with an error naming them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "codebook/codebook.h"
#include "common/json.h"
#include "common/result.h"

namespace cqda::project {

// What a change does to the codings of the codes it touches.
enum class CodingMove : int {
  kNone,
  kRename,  // every row, removed ones included, since the old id leaves the codebook
  kMerge,   // live rows; a row that would duplicate a live row of the target is removed
};

struct PlannedChange {
  codebook::Codebook codebook;          // the new version, validated
  std::string text;                     // its JSON text as stored; codebook.sha256 is its hash
  Json summary;                         // {"op": ..., the ids involved, "change": "<one line>"}
  CodingMove move = CodingMove::kNone;  // from each of `move_from` to `move_to`
  std::vector<std::string> move_from;
  std::string move_to;
};

// `author` and `time` go into the changelog entry; the caller bounds them.
Result<PlannedChange> plan_codebook_change(const codebook::Codebook& current, const Json& change,
                                           std::string_view author, std::string_view time);

// A codebook document as stored: JSON indented by two spaces, ending in a newline. Fails on
// strings that are not valid UTF-8 (possible only in a Json built in code, not a parsed one).
Result<std::string> codebook_document_text(const Json& document);

// True for an id the codebook schema accepts: ^[a-z0-9][a-z0-9-]{0,63}$.
bool is_valid_code_id(std::string_view id);

}  // namespace cqda::project
