#include "serving/served_model.h"

#include <memory>

#include "model_choice.h"
#include "smpack/artifact.h"
#include "smpack/handler_scan.h"
#include "smpack/s3.h"

namespace smpack::harness {
namespace {

// The toolkit imports SAGEMAKER_PROGRAM (default inference.py) from code/.
std::string handler_module_path(const std::string& program) {
  std::string module = program.empty() ? "inference.py" : program;
  if (!module.ends_with(".py")) module += ".py";
  return "code/" + module;
}

Result<void> require_default_handlers(const ModelTree& tree, const std::string& program) {
  const auto path = handler_module_path(program);
  const std::string* source = tree.content(path);
  if (source == nullptr) return {};
  const auto scan = scan_handler_module(
      path, *source, [&](std::string_view sibling) { return tree.content(sibling); });
  std::string defined;
  for (const auto name : kHandlerNames) {
    const auto* binding = scan.find(name);
    if (binding == nullptr || binding->kind == BindingKind::deleted) continue;
    defined += (defined.empty() ? "" : ", ") + std::string(name);
  }
  if (defined.empty()) return {};
  return Error::bad_input(path + " defines " + defined +
                          ": smpack-harness serves with the PyTorch container's default "
                          "handlers only; run Python handlers with `smpack invoke`");
}

}  // namespace

Result<ServedModel> read_served_model(const std::string& source,
                                      const std::optional<std::string>& model_member,
                                      const std::string& program, std::uint64_t max_model_bytes,
                                      const CancelToken& cancel) {
  std::unique_ptr<S3Client> s3;
  if (is_s3_url(source)) {
    S3Settings settings;
    settings.cancel = &cancel;
    auto client = S3Client::connect(AwsEnvironment::from_process(), settings);
    if (!client) return std::move(client).error();
    s3 = std::make_unique<S3Client>(std::move(*client));
  }
  auto artifact = Artifact::open(source, {}, s3.get());
  if (!artifact) return std::move(artifact).error();
  VisitOptions listing;
  listing.keep_content = [](std::string_view path, std::uint64_t) {
    return path.starts_with("code/") && path.ends_with(".py");
  };
  listing.cancel = &cancel;
  auto tree = artifact->visit(listing);
  if (!tree) return std::move(tree).error();
  if (auto defaults = require_default_handlers(*tree, program); !defaults)
    return std::move(defaults).error().with_context(source);
  ServedModel model{source, model_member.value_or(""), {}};
  if (!model_member) {
    auto chosen = default_model_member(*tree);
    if (!chosen) return std::move(chosen).error().with_context(source);
    model.member = *chosen;
  }
  auto bytes = artifact->read_member(model.member, max_model_bytes);
  if (!bytes) return std::move(bytes).error().with_context(source);
  model.bytes = std::move(*bytes);
  return model;
}

}  // namespace smpack::harness
