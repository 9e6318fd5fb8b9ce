// The codebook as it leaves the project: its text anonymized like the segments. A definition
// or an example may quote a participant, so the codebook that goes into a prompt (llm), to an
// MCP client (mcp) or into the exports (export) passes through the same anonymizer, with the
// corpus's vault, so a name gets the pseudonym the segments use.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "anonymize/anonymizer.h"
#include "codebook/codebook.h"

namespace cqda::pipeline {

// Anonymizes the codebook's name and description, the categories' names and descriptions,
// each code's name, definition, inclusion and exclusion criteria, examples and keywords, and
// the changelog's entries and authors — in the parsed codebook and in its JSON document alike
// (text normalized to NFC first, as documents are). Ids, RE2 patterns and colours are left as
// they are; so is `sha256`, which names the researcher's file. Adds the replacements per type
// to `counts`.
codebook::Codebook anonymize_codebook(const codebook::Codebook& codebook, anonymize::Anonymizer& anonymizer,
                                      std::map<std::string, std::size_t>& counts);

}  // namespace cqda::pipeline
