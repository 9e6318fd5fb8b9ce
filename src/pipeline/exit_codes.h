// Exit codes of the cqda command line (documented in README.md and `cqda --help`).
#pragma once

namespace cqda {

enum ExitCode : int {
  kExitOk = 0,             // success
  kExitFailure = 1,        // verify: the log is not intact; healthcheck: the server is not answering
  kExitUsage = 2,          // bad command line, or an invalid policy, codebook, roster or case file
  kExitInputsSkipped = 3,  // the run completed, but some input files could not be processed
  kExitOutput = 4,         // outputs could not be written or failed validation; nothing partial was written
  kExitCodingIncomplete = 5,  // model coding stopped early (budget, endpoint, credentials); outputs hold what was coded
  kExitInternal = 70,      // a bug, or a sandboxed process died: please report it with the run log
};

}  // namespace cqda
