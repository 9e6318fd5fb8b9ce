// The cqda command line: parses arguments with CLI11 and dispatches to the components.
// Exit codes are in pipeline/exit_codes.h and README.md.
#pragma once

namespace cqda::cli {

int main(int argc, char** argv);

}  // namespace cqda::cli
