// The files of templates/, as the build embedded them (cmake/EmbedTemplates.cmake
// generates the definition).
#pragma once

#include <span>
#include <string_view>

namespace smpack {

struct EmbeddedFile {
  std::string_view path;  // "<template name>/<file name>", relative to templates/
  std::string_view content;
};

// Sorted by path.
std::span<const EmbeddedFile> embedded_template_files();

}  // namespace smpack
