#include "sign_flag.h"

namespace smpack::cli {

void SignFlag::add_to(CLI::App& command, const std::string& what) {
  command.add_option("--sign", key_path,
                     "Sign " + what +
                         " with this PEM EC private key: the signature goes beside it "
                         "(PATH.sig), in OpenSSF model signing's format");
}

Result<std::optional<SigningKey>> SignFlag::load() const {
  if (key_path.empty()) return std::optional<SigningKey>();
  auto key = SigningKey::from_pem_file(key_path);
  if (!key) return std::move(key).error();
  return std::optional<SigningKey>(std::move(*key));
}

Result<std::string> sign_beside(Context& context, const std::string& location,
                                const SigningKey& key) {
  auto artifact = open_artifact(context, location);
  if (!artifact) return std::move(artifact).error();
  SignOptions options;
  options.from_index = true;
  options.cancel = &context.cancel;
  auto bundle = sign_artifact(*artifact, key, options);
  if (!bundle) return std::move(bundle).error();
  const std::string signature = default_signature_path(location);
  if (auto r = write_small_file(context, signature, *bundle); !r) return std::move(r).error();
  return signature;
}

}  // namespace smpack::cli
