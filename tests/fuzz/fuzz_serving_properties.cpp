// serving.properties on arbitrary bytes, as lint reads one from any archive: the Java
// Properties reader (continuations, escapes, separators), then the whole LMI profile's
// rules over a tree that holds it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lint/serving_properties.h"
#include "smpack/lint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)smpack::lint_internal::parse_serving_properties(text);
  smpack::ModelTree tree;
  smpack::Member member;
  member.path = member.stored_path = "serving.properties";
  member.size = size;
  tree.members.push_back(member);
  tree.contents["serving.properties"] = text;
  smpack::LintOptions options;
  options.profile = smpack::Profile::djl_lmi;
  (void)smpack::lint_tree(tree, options);
  return 0;
}
