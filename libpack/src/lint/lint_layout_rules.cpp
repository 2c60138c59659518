// Layout rules: where SageMaker expects things once the archive is extracted to /opt/ml/model.
#include <algorithm>
#include <array>
#include <map>

#include "lint/lint_rules.h"

namespace smpack::lint_internal {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view first_component(std::string_view path) {
  return path.substr(0, path.find('/'));
}

void check_container(LintContext& context) {
  const ModelTree& tree = context.tree;
  if (!tree.archive || tree.archive->container == ContainerKind::gzip) return;
  context.report(rule("layout-not-gzip"), "", 0, 0,
                 "the archive is " + std::string(describe(tree.archive->container)) +
                     ", not a gzip-compressed tar; SageMaker reads ModelDataUrl as tar.gz and "
                     "fails to extract anything else (rebuild it with tar -czf or smpack build)");
}

// TF Serving models may legitimately sit under one folder: "1/saved_model.pb" or
// "<name>/1/saved_model.pb".
bool is_tf_serving_folder(const ModelTree& tree, std::string_view top) {
  if (all_digits(top)) return true;
  return std::any_of(tree.members.begin(), tree.members.end(), [&](const Member& m) {
    std::string_view p = m.path;
    if (!p.starts_with(top) || p.size() <= top.size() || p[top.size()] != '/') return false;
    p.remove_prefix(top.size() + 1);
    auto slash = p.find('/');
    return slash != std::string_view::npos && all_digits(p.substr(0, slash)) &&
           p.substr(slash + 1) == "saved_model.pb";
  });
}

}  // namespace

std::optional<std::string> wrapping_folder(const ModelTree& tree) {
  std::string_view top;
  bool nested = false;
  for (const auto& member : tree.members) {
    if (member.path.empty()) continue;
    auto first = first_component(member.path);
    if (top.empty()) top = first;
    if (first != top) return std::nullopt;
    nested = nested || member.path.size() > first.size();
  }
  if (!nested || top == "code" || is_tf_serving_folder(tree, top)) return std::nullopt;
  return std::string(top);
}

namespace {

// True when it reported: the other location rules would only repeat it then.
bool check_wrapped(LintContext& context) {
  const ModelTree& tree = context.tree;
  const auto wrapped = wrapping_folder(tree);
  if (!wrapped) return false;
  const std::string& folder = *wrapped;
  std::string fix;
  if (tree.source == ArtifactKind::directory) {
    fix = "point smpack at the folder itself (smpack lint " + tree.display_name + "/" + folder +
          "), or move its contents up one level";
  } else {
    fix = "rebuild it from inside the folder: tar -C " + folder + " -czf model.tar.gz .";
  }
  context.report(rule("layout-wrapped"), "", 0, 0,
                 "every member is under '" + folder +
                     "/', so SageMaker extracts it to /opt/ml/model/" + folder +
                     "/ and finds neither code/ nor the weights at /opt/ml/model; " + fix);
  return true;
}

void check_handler_module_location(LintContext& context) {
  if (!context.module_path.empty()) return;
  const auto candidates = handler_module_candidates(context.profile, context.options);
  const std::string module_file(file_name(candidates.front()));
  std::vector<std::string> code_python, misplaced;
  for (const auto& member : context.tree.members) {
    if (!is_regular_file(member)) continue;
    if (member.path.starts_with("code/") && member.path.ends_with(".py") &&
        !member.path.starts_with("code/lib/")) {
      code_python.push_back(member.path);
    }
    if (file_name(member.path) == module_file && !member.path.starts_with("code/")) {
      misplaced.push_back(member.path);
    }
  }
  for (const auto& path : misplaced) {
    context.report(rule("layout-handler-outside-code"), path, 0, 0,
                   "'" + path + "' is not imported: the container loads " + candidates.front() +
                       " only, so the default handlers run; move it to code/");
  }
  if (!code_python.empty() && misplaced.empty()) {
    const std::string program = context.env("SAGEMAKER_PROGRAM");
    context.report(
        rule("layout-handler-module-missing"), "code", 0, 0,
        "code/ has " + quoted_list(code_python, 3) + " but no " + candidates.front() +
            (program.empty() || context.profile == Profile::tensorflow
                 ? std::string()
                 : " (SAGEMAKER_PROGRAM=" + program + ")") +
            "; the toolkit finds no handler module and silently runs its default handlers");
  }
}

void check_weights_in_code(LintContext& context) {
  for (const auto& member : context.tree.members) {
    if (!is_regular_file(member) || !member.path.starts_with("code/") ||
        !is_weight_file(member.path)) {
      continue;
    }
    context.report(rule("layout-weights-in-code"), member.path, 0, 0,
                   "'" + member.path +
                       "' looks like model weights inside code/: default loaders read the root "
                       "(/opt/ml/model), and the SDK's repack replaces code/ wholesale; put it "
                       "at the root");
  }
}

void check_requirements_location(LintContext& context) {
  for (const auto& member : context.tree.members) {
    if (!is_regular_file(member) || file_name(member.path) != "requirements.txt" ||
        member.path == "code/requirements.txt") {
      continue;
    }
    std::string why = member.path.starts_with("code/lib/")
                          ? "code/lib/ is where the SDK puts dependencies=[...], and nothing "
                            "there is installed"
                          : "it is not code/requirements.txt";
    context.report(rule("layout-requirements-not-installed"), member.path, 0, 0,
                   "'" + member.path + "' is never installed: " + why +
                       "; the container runs pip install -r only on code/requirements.txt");
  }
}

// The first component of `path` that marks it as junk, as the prefix up to it; "" if none.
std::string junk_root(std::string_view path) {
  static constexpr std::array<std::string_view, 4> kJunkFolders = {"__pycache__", ".git",
                                                                   ".ipynb_checkpoints", ".svn"};
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto component = path.substr(start, end - start);
    const bool last = end == path.size();
    if (std::find(kJunkFolders.begin(), kJunkFolders.end(), component) != kJunkFolders.end() ||
        (last && (component == ".DS_Store" || component.ends_with(".pyc")))) {
      return std::string(path.substr(0, end));
    }
    start = end + 1;
  }
  return {};
}

void check_junk(LintContext& context) {
  std::map<std::string, int> roots;  // ordered, so findings come out in path order
  for (const auto& member : context.tree.members) {
    if (auto root = junk_root(member.path); !root.empty()) ++roots[root];
  }
  for (const auto& [root, count] : roots) {
    context.report(rule("layout-junk"), root, 0, 0,
                   "'" + root + "'" +
                       (count > 1 ? " (" + std::to_string(count) + " members)" : std::string()) +
                       " serves no purpose in a model; it only adds bytes to every download");
  }
}

void check_sdk_repack(LintContext& context) {
  for (const auto& member : context.tree.members) {
    if (member.path_problem == PathProblem::root_member && member.stored_path == "/") {
      context.report(rule("layout-sdk-repacked"), "", 0, 0,
                     "the archive starts with a root member '/', as the SageMaker SDK's repack "
                     "writes it; deploying it again with an entry_point repacks it again");
      return;
    }
  }
}

}  // namespace

// Nothing to load: an empty archive, or one of directories only, fails at model load
// whatever the container.
void check_empty(LintContext& context) {
  const auto& members = context.tree.members;
  if (std::any_of(members.begin(), members.end(),
                  [](const Member& m) { return m.type != EntryType::directory; })) {
    return;
  }
  context.report(rule("layout-empty"), "", 0, 0,
                 members.empty() ? "the archive holds no member at all; the container has no "
                                   "model to load"
                                 : "the archive holds " + std::to_string(members.size()) +
                                       " director" + (members.size() == 1 ? "y" : "ies") +
                                       " and no file; the container has no model to load");
}

void run_layout_rules(LintContext& context) {
  check_container(context);
  check_empty(context);
  const bool wrapped = check_wrapped(context);
  if (!wrapped && imports_code_handlers(context.profile)) {
    check_handler_module_location(context);
    check_requirements_location(context);
  }
  check_weights_in_code(context);
  check_junk(context);
  check_sdk_repack(context);
}

}  // namespace smpack::lint_internal
