# Writes OUT/resources/embedded.h and OUT/embedded_data.cc holding each of FILES as bytes,
# keyed by its path relative to ROOT.
string(REPLACE "|" ";" FILES "${FILES}")
file(MAKE_DIRECTORY ${OUT}/resources)
file(WRITE ${OUT}/resources/embedded.h
"#pragma once\n#include <cstddef>\n#include <string_view>\nnamespace cqda::resources::embedded {\n"
"struct Entry { std::string_view path; std::string_view content; };\n"
"extern const Entry kEntries[];\nextern const std::size_t kCount;\n}\n")
set(body "#include \"resources/embedded.h\"\nnamespace cqda::resources::embedded {\nnamespace {\n")
set(entries "")
set(index 0)
foreach(file IN LISTS FILES)
  file(RELATIVE_PATH rel ${ROOT} ${file})
  file(READ ${file} hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(APPEND body "const char data${index}[] = {${bytes} 0};\n")
  string(APPEND entries "  {\"${rel}\", std::string_view(data${index}, ${size})},\n")
  math(EXPR index "${index} + 1")
endforeach()
string(APPEND body "}  // namespace\nconst Entry kEntries[] = {\n${entries}  {\"\", {}}\n};\n")
string(APPEND body "const std::size_t kCount = ${index};\n}\n")
file(WRITE ${OUT}/embedded_data.cc.tmp "${body}")
file(RENAME ${OUT}/embedded_data.cc.tmp ${OUT}/embedded_data.cc)
