// OpenDocument text (.odt): the text of content.xml, one paragraph per text:p or text:h.
#pragma once

#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"
#include "policy/policy.h"

namespace cqda::ingest {

// `bytes` is the whole .odt file, bounded like a docx (zip_archive.h). Inside a paragraph,
// whitespace runs collapse to one space as ODF prescribes; text:s inserts text:c spaces
// (at most 64 each), text:tab a tab, text:line-break a line break; text:span and other
// inline elements nest freely. Comments (office:annotation), tracked deletions
// (text:tracked-changes) and footnote marks (text:note-citation) are not text. Paragraphs
// then segment like a plain-text transcript.
Result<std::vector<Segment>> parse_odt(std::string_view bytes, const policy::ArchiveLimits& limits);

}  // namespace cqda::ingest
