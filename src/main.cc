// cqda: the command-line entry point. All work happens in the cli library.
#include "cli/cli.h"

int main(int argc, char** argv) { return cqda::cli::main(argc, argv); }
