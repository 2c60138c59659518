// `--sign KEY` of build, stage and add-code: the key is loaded before anything is
// written, and the signature goes beside what was written (PATH.sig).
#pragma once

#include <optional>
#include <string>

#include "command.h"
#include "smpack/signing.h"

namespace smpack::cli {

struct SignFlag {
  std::string key_path;

  void add_to(CLI::App& command, const std::string& what);
  // nullopt without --sign.
  Result<std::optional<SigningKey>> load() const;
};

// Signs the artifact at `location` (an smpack archive just written: from its index)
// and writes the bundle to location.sig; returns that path.
Result<std::string> sign_beside(Context& context, const std::string& location,
                                const SigningKey& key);

}  // namespace smpack::cli
