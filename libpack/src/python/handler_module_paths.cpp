// Module lookup for handler archives.
#include "python/handler_module_paths.h"

#include <algorithm>

namespace smpack {

ModulePaths::ModulePaths(std::string_view entry_path) : root_(folder_of(entry_path)) {}

std::string ModulePaths::folder_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

std::string ModulePaths::join(std::string_view folder, std::string_view relative) {
  if (folder.empty()) return std::string(relative);
  return std::string(folder) + "/" + std::string(relative);
}

std::vector<std::string> ModulePaths::absolute_bases(std::string_view dotted) const {
  std::vector<std::string> bases{root_};
  const std::string_view first = dotted.substr(0, dotted.find('.'));
  const std::size_t slash = root_.rfind('/');
  const std::string_view root_name = slash == std::string::npos
                                         ? std::string_view(root_)
                                         : std::string_view(root_).substr(slash + 1);
  if (!root_.empty() && first == root_name) bases.push_back(folder_of(root_));
  return bases;
}

std::vector<std::string> ModulePaths::candidates(std::string_view base, std::string_view dotted) {
  std::string relative(dotted);
  std::replace(relative.begin(), relative.end(), '.', '/');
  const std::string stem = join(base, relative);
  return {stem + ".py", stem + "/__init__.py"};
}

std::string ModulePaths::module_name_of(std::string_view file) const {
  std::string_view relative = file;
  if (!root_.empty() && relative.substr(0, root_.size() + 1) == root_ + "/") {
    relative.remove_prefix(root_.size() + 1);
  }
  constexpr std::string_view kInit = "/__init__.py";
  constexpr std::string_view kPy = ".py";
  if (relative.size() > kInit.size() && relative.substr(relative.size() - kInit.size()) == kInit) {
    relative.remove_suffix(kInit.size());
  } else if (relative.size() > kPy.size() && relative.substr(relative.size() - kPy.size()) == kPy) {
    relative.remove_suffix(kPy.size());
  }
  std::string name(relative);
  std::replace(name.begin(), name.end(), '/', '.');
  return name;
}

ModulePaths::RelativeBase ModulePaths::relative_base(std::string_view importer, int level) const {
  RelativeBase base{folder_of(importer), {}};
  if (base.folder == root_) {
    base.error = "attempted relative import with no known parent package (SageMaker imports " +
                 std::string(importer) + " as a top-level module)";
    return base;
  }
  for (int i = 1; i < level; ++i) {
    base.folder = folder_of(base.folder);
    const bool inside_root = root_.empty()
                                 ? !base.folder.empty()
                                 : base.folder.size() > root_.size() &&
                                       base.folder.compare(0, root_.size() + 1, root_ + "/") == 0;
    if (!inside_root) {
      base.error = "attempted relative import beyond top-level package";
      return base;
    }
  }
  return base;
}

}  // namespace smpack
