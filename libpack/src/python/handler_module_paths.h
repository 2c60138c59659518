// Where Python finds a module of a handler archive: the handler's folder (code/) is the
// import root, as the SageMaker toolkit puts it on sys.path and imports the handler as a
// top-level module.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace smpack {

class ModulePaths {
 public:
  // The import root is the folder of `entry_path` ("code/inference.py" -> "code").
  explicit ModulePaths(std::string_view entry_path);

  const std::string& root() const { return root_; }

  // Folders an absolute import of `dotted` is looked up from: the root, and also the
  // root's parent when the first component names the root ("code.helpers").
  std::vector<std::string> absolute_bases(std::string_view dotted) const;

  // The files module `dotted` may be in under `base`: base/a/b.py, base/a/b/__init__.py.
  static std::vector<std::string> candidates(std::string_view base, std::string_view dotted);

  // The dotted name of the module at `file` relative to the root ("code/pkg/x.py" ->
  // "pkg.x"; "code/pkg/__init__.py" -> "pkg").
  std::string module_name_of(std::string_view file) const;

  struct RelativeBase {
    std::string folder;  // where `from .<level> name` looks, even when Python would refuse
    std::string error;   // non-empty when CPython raises ImportError for this import
  };
  // `from ..x import` in `importer` with level 2, etc.
  RelativeBase relative_base(std::string_view importer, int level) const;

  static std::string folder_of(std::string_view path);
  static std::string join(std::string_view folder, std::string_view relative);

 private:
  std::string root_;
};

}  // namespace smpack
