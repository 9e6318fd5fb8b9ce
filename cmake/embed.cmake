# Writes OUT/resources/embedded.h and OUT/embedded_data.cc embedding each of FILES, keyed by
# its path relative to ROOT. The bytes are pulled in by the assembler (.incbin), so large
# lists cost neither CMake nor the compiler anything; each is followed by a NUL byte.
string(REPLACE "|" ";" FILES "${FILES}")
file(MAKE_DIRECTORY ${OUT}/resources)
file(WRITE ${OUT}/resources/embedded.h
"#pragma once\n#include <cstddef>\n#include <string_view>\nnamespace cqda::resources::embedded {\n"
"struct Entry { std::string_view path; std::string_view content; };\n"
"extern const Entry kEntries[];\nextern const std::size_t kCount;\n}\n")
set(assembly "")
set(declarations "")
set(entries "")
set(index 0)
foreach(file IN LISTS FILES)
  file(RELATIVE_PATH rel ${ROOT} ${file})
  file(SIZE ${file} size)
  string(REPLACE "\\" "\\\\\\\\" escaped "${file}")
  string(REPLACE "\"" "\\\\\\\"" escaped "${escaped}")
  set(symbol cqda_resource_${index})
  string(APPEND assembly
    "    \".globl ${symbol}\\n.hidden ${symbol}\\n.balign 16\\n${symbol}:\\n\"\n"
    "    \".incbin \\\"${escaped}\\\"\\n.byte 0\\n\"\n")
  string(APPEND declarations "extern \"C\" __attribute__((visibility(\"hidden\"))) const char ${symbol}[];\n")
  string(APPEND entries "  {\"${rel}\", std::string_view(${symbol}, ${size})},\n")
  math(EXPR index "${index} + 1")
endforeach()
set(body "#include \"resources/embedded.h\"\n")
string(APPEND body "__asm__(\n    \".pushsection .rodata.cqda_resources,\\\"a\\\",@progbits\\n\"\n${assembly}    \".popsection\\n\");\n")
string(APPEND body "${declarations}namespace cqda::resources::embedded {\n")
string(APPEND body "const Entry kEntries[] = {\n${entries}  {\"\", {}}\n};\n")
string(APPEND body "const std::size_t kCount = ${index};\n}\n")
file(WRITE ${OUT}/embedded_data.cc.tmp "${body}")
file(RENAME ${OUT}/embedded_data.cc.tmp ${OUT}/embedded_data.cc)
