#include "ingest/srt_parser.h"

#include "ingest/subtitle.h"
#include "segment/text_lines.h"

namespace cqda::ingest {

Result<std::vector<Segment>> parse_srt(std::string_view text) {
  std::vector<RawCue> cues;
  for (const std::vector<std::string_view>& block : split_blocks(segment::split_lines(text))) {
    std::size_t timing = block.size();
    for (std::size_t t = 0; t < block.size() && t < 2; ++t) {
      if (timing_start(block[t])) {
        timing = t;
        break;
      }
    }
    if (timing == block.size()) {
      if (!cues.empty())
        cues.back().lines.insert(cues.back().lines.end(), block.begin(), block.end());
      continue;
    }
    std::string_view start = *timing_start(block[timing]);
    std::optional<std::string> normalized = normalize_timestamp(start);
    RawCue cue;
    cue.start = normalized ? *normalized : std::string(start);
    cue.lines.assign(block.begin() + static_cast<std::ptrdiff_t>(timing) + 1, block.end());
    cues.push_back(std::move(cue));
  }
  return segment::merge_cues(cues_with_speakers(cues, TagSyntax::kSubRip));
}

}  // namespace cqda::ingest
