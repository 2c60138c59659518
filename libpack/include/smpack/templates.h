// The handler code `smpack init` writes: an inference.py and a requirements.txt per
// serving profile (two for pytorch: a TorchScript model or a state dict), each lint-clean
// for its profile and commented with what every handler receives and returns.
// The text is templates/<name>/ of the source tree, embedded into the library at build
// time (cmake/EmbedTemplates.cmake), so nothing is looked up on disk at run time.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "smpack/lint.h"
#include "smpack/result.h"

namespace smpack {

struct TemplateFile {
  std::string_view name;  // a plain file name, e.g. "inference.py"
  std::string_view content;
};

struct CodeTemplate {
  std::string_view name;  // the folder under templates/, e.g. "pytorch-state-dict"
  Profile profile = Profile::generic;
  std::string_view variant;         // "torchscript", "state-dict"; "" for a profile's only one
  std::string_view summary;         // one line, for listings
  std::vector<TemplateFile> files;  // sorted by name
};

// Every template, ordered by profile, the profile's default variant first. Thread-safe.
const std::vector<CodeTemplate>& code_templates();

// The template for `profile` and `variant` ("" picks the profile's default: torchscript
// for pytorch). A usage error naming the choices when there is none.
Result<const CodeTemplate*> find_code_template(Profile profile, std::string_view variant = {});

enum class Overwrite { refuse, replace };

// Writes the template's files into `dir`, creating it and its parents when missing.
// Each file is written atomically (a temporary file renamed into place). With
// Overwrite::refuse an existing file is a usage error naming it, and nothing is written.
// io error when a folder or file cannot be created. Returns the paths written.
Result<std::vector<std::filesystem::path>> write_code_template(const CodeTemplate& code_template,
                                                               const std::filesystem::path& dir,
                                                               Overwrite overwrite);

// {"template", "files"}: what `init --json` prints after writing.
std::string init_json(const CodeTemplate& code_template,
                      const std::vector<std::filesystem::path>& written);

}  // namespace smpack
