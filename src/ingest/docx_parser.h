// Word (.docx) documents: the text of word/document.xml, one paragraph per w:p.
#pragma once

#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"
#include "policy/policy.h"

namespace cqda::ingest {

// `bytes` is the whole .docx file. The zip is bounded by `limits` (zip_archive.h). Text comes
// from w:t; w:tab is a tab and w:br / w:cr a line break (only inside a run, w:r); deleted
// text (w:delText), field codes (w:instrText) and the fallback copy of drawings
// (mc:Fallback, which repeats mc:Choice) are not text. Paragraphs then segment like a
// plain-text transcript: speaker turns when at least two paragraphs start with a label.
Result<std::vector<Segment>> parse_docx(std::string_view bytes,
                                        const policy::ArchiveLimits& limits);

}  // namespace cqda::ingest
