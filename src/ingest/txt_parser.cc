#include "ingest/txt_parser.h"

#include "segment/segmenter.h"
#include "segment/text_lines.h"

namespace cqda::ingest {

Result<std::vector<Segment>> parse_txt(std::string_view text) {
  return segment::segment_lines(segment::split_lines(text), segment::LineJoin::kSpace);
}

}  // namespace cqda::ingest
