#include "model_choice.h"

#include <set>

namespace smpack::harness {
namespace {

bool is_root_file(const Member& member) {
  return member.type == EntryType::file && !member.path.empty() &&
         member.path.find('/') == std::string::npos;
}

bool has_model_extension(std::string_view path) {
  return path.ends_with(".pt") || path.ends_with(".pth");
}

}  // namespace

Result<std::string> default_model_member(const ModelTree& tree) {
  if (const auto* model = tree.find("model.pt"); model != nullptr && is_root_file(*model)) {
    return model->path;
  }
  std::set<std::string> candidates;  // a path stored twice is still one file once extracted
  for (const auto& member : tree.members) {
    if (is_root_file(member) && has_model_extension(member.path)) candidates.insert(member.path);
  }
  if (candidates.size() == 1) return *candidates.begin();
  if (candidates.empty()) {
    return Error::bad_input(
        "no model.pt and no .pt/.pth file at the root: the PyTorch container's default "
        "model_fn would fail (name the member with --model)");
  }
  std::string names;
  for (const auto& name : candidates) names += (names.empty() ? "" : ", ") + name;
  return Error::bad_input("no model.pt and several .pt/.pth files at the root (" + names +
                          "): the PyTorch container's default model_fn would refuse; name "
                          "one with --model");
}

}  // namespace smpack::harness
