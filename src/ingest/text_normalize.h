// Validates and normalizes the bytes of a text document into cqda's canonical text: valid
// UTF-8, NFC, LF line endings, no BOM, no control characters other than '\t' and '\n'.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace cqda::ingest {

// Steps, in order:
//   1. A NUL byte means binary content: "<what>: binary content: NUL byte at offset N"
//      (a UTF-16 byte-order mark gets its own message, since that file is text in the wrong
//      encoding).
//   2. Ill-formed UTF-8: "<what>: invalid UTF-8 at byte offset N". Offsets in both messages
//      count from the first byte of `bytes`, BOM included, so a hex editor finds them.
//   3. A leading UTF-8 BOM is removed; CRLF and lone CR become LF.
//   4. Control characters are replaced, never rejected: exported text routinely carries a
//      form feed (page break) or vertical tab (Word's manual line break), and old DOS files
//      end with ^Z; rejecting the file would lose a participant's words over layout bytes.
//      FF, VT, U+2028 and U+2029 become '\n'; every other C0 control, DEL and the C1 controls
//      (U+0080..U+009F) become a space.
//   5. Canonical composition (NFC): "e" + U+0301 becomes "é".
Result<std::string> normalize_text(std::string_view bytes, std::string_view what);

}  // namespace cqda::ingest
