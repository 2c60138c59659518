// The rule registry: one row per rule, the one place a rule ID is spelled out.
// docs/rules.md has one heading per ID (a test checks it). Rules report through
// rule("id"), which is checked against this table at compile time: a typo does not
// build, and no finding can carry an ID the registry does not know.
#pragma once

#include <array>
#include <string_view>

#include "smpack/lint.h"

namespace smpack::lint_internal {

using enum Severity;

inline constexpr std::array kRules = {
    // Archive safety: what a safe extractor refuses or changes (exit code 3 for errors).
    RuleInfo{"archive-unreadable", error,
             "The archive cannot be read to the end: corrupt, truncated, or past a safety cap"},
    RuleInfo{"archive-ambiguous", error,
             "A tar construct that GNU tar, bsdtar and Python tarfile do not read alike"},
    RuleInfo{"archive-path-traversal", error, "A member path with a '..' component"},
    RuleInfo{"archive-absolute-path", error, "A member with an absolute path"},
    RuleInfo{"archive-bad-name", error,
             "A member name that is empty, holds a NUL byte or is longer than the cap"},
    RuleInfo{"archive-link-escape", error,
             "A symlink or hard link that resolves outside the extraction root"},
    RuleInfo{"archive-write-through-link", error,
             "A member below a symlink an earlier member created: it is written through the link"},
    RuleInfo{"archive-special-file", error, "A device, FIFO or socket member"},
    RuleInfo{"archive-name-encoding", warning,
             "A member name or link target that is not valid UTF-8"},
    RuleInfo{"archive-setuid", warning,
             "A member with setuid, setgid or sticky bits, which extractors drop"},
    RuleInfo{"archive-reader-warning", warning,
             "libarchive warned while reading a member's headers and read on"},
    RuleInfo{"archive-duplicate-member", warning,
             "The same path is stored twice; extractors keep the last copy"},
    // Layout of the archive or directory.
    RuleInfo{"layout-not-gzip", error, "The model archive is not a gzip-compressed tar"},
    RuleInfo{"layout-empty", error, "The archive or directory holds no file at all"},
    RuleInfo{"layout-wrapped", error,
             "Everything sits under one top-level folder instead of at the root"},
    RuleInfo{"layout-handler-module-missing", warning,
             "code/ holds Python files but not the handler module; the default handlers run"},
    RuleInfo{"layout-handler-outside-code", warning,
             "The handler module is outside code/, where the container never imports it"},
    RuleInfo{
        "layout-weights-in-code", warning,
        "Weight files under code/, where default loaders do not look and repacks replace them"},
    RuleInfo{"layout-requirements-not-installed", warning,
             "A requirements.txt that is never installed (only code/requirements.txt is)"},
    RuleInfo{"layout-junk", info,
             "Files that serve no purpose in a model (__pycache__, .pyc, .git, .DS_Store, ...)"},
    RuleInfo{"layout-sdk-repacked", info, "The archive was written by the SageMaker SDK's repack"},
    // An uncompressed layout (S3ModelDataSource, CompressionType None): S3 prefix or
    // a directory linted with --layout prefix.
    RuleInfo{"prefix-bad-key", error,
             "A key that SageMaker refuses: a '.' or '..' or empty component, a NUL byte, over "
             "255 bytes"},
    RuleInfo{"prefix-folder-object", error, "A 0-byte \"folder\" object (a key ending in '/')"},
    RuleInfo{"prefix-file-dir-clash", error,
             "A key that is both a file and the folder of other keys"},
    RuleInfo{"prefix-symlink", error, "A symlink, which an uncompressed layout cannot carry"},
    // The handler module.
    RuleInfo{"handler-syntax-error", error, "The handler module does not import (syntax error)"},
    RuleInfo{"handler-transform-with-io", error,
             "transform_fn defined together with input_fn, predict_fn or output_fn"},
    RuleInfo{"handler-arity", error,
             "A handler's parameter count is not what the toolkit calls it with"},
    RuleInfo{"handler-context-not-accepted", error,
             "A handler whose parameters cannot take the positional arguments it is called with"},
    RuleInfo{"handler-async", error,
             "An async def handler; the toolkit calls handlers synchronously"},
    RuleInfo{"handler-signature-unknown", warning,
             "A handler whose signature the toolkit sees differently: a decorator, a partial"},
    RuleInfo{"handler-module-getattr", warning,
             "A module-level __getattr__ that may supply handlers at run time"},
    RuleInfo{"handler-depends-on-condition", warning,
             "A handler bound several times under run-time conditions, one with a wrong signature"},
    RuleInfo{"handler-context-in-parameter", warning,
             "A handler's optional last parameter that receives the request context"},
    RuleInfo{"handler-near-miss", warning,
             "A function whose name the container does not look up (load, predict, ...)"},
    RuleInfo{"handler-nested-only", error,
             "A handler defined only inside a class, function or __main__ block"},
    RuleInfo{"handler-no-model-fn", error,
             "No model_fn, and the container has no default loader for this model"},
    // Per container.
    RuleInfo{"pytorch-default-model", error,
             "Without model_fn, the PyTorch container needs model.pt or exactly one .pt/.pth"},
    RuleInfo{"pytorch-default-input-unpickles", warning,
             "Without input_fn, the PyTorch container unpickles NPY request bodies "
             "(np.load(allow_pickle=True))"},
    RuleInfo{"pytorch-default-not-torchscript", error,
             "Without model_fn, the PyTorch container's torch.jit.load gets a file that is not "
             "TorchScript"},
    RuleInfo{"huggingface-no-task", error,
             "Without model_fn, the Hugging Face container cannot tell the pipeline task"},
    RuleInfo{"tensorflow-no-saved-model", error,
             "No saved_model.pb in an all-digit version folder for TensorFlow Serving"},
    RuleInfo{"tensorflow-handlers", error,
             "TF Serving needs handler, or both input_handler and output_handler"},
    RuleInfo{"tensorflow-requirements-ignored", warning,
             "TF Serving ignores code/requirements.txt when code/lib/ exists"},
    RuleInfo{"sklearn-transform-fn-ignored", warning,
             "The scikit-learn container ignores transform_fn"},
    // The LLM servers: LMI (djl-lmi), TGI and TEI; and the Hugging Face shard index.
    RuleInfo{"djl-option-invalid", error,
             "A serving.properties value LMI refuses: unknown engine, rolling_batch or dtype, "
             "a count or boolean that is not one"},
    RuleInfo{"llm-config-missing", error,
             "No config.json for a server that loads /opt/ml/model as a Hugging Face model"},
    RuleInfo{"llm-tokenizer-missing", warning,
             "No tokenizer files beside the model (an error for TEI, which needs tokenizer.json)"},
    RuleInfo{"llm-weights-not-safetensors", warning,
             "Only .bin weights, which TGI converts to safetensors at every start"},
    RuleInfo{"llm-code-ignored", warning, "code/ in a model for a server that never imports it"},
    RuleInfo{"hf-shard-index-invalid", error,
             "A shard index whose weight_map names missing shards or tensors a shard lacks"},
    // requirements.txt.
    RuleInfo{"req-invalid-line", error, "A requirements line that pip refuses"},
    RuleInfo{"req-ignored-option", warning,
             "Text in a requirements line that pip silently ignores"},
    RuleInfo{"req-include-missing", error, "A -r/-c file that is not in the model"},
    RuleInfo{"req-include-not-read", info,
             "A requirements file not checked: too large, nested too deep, or UTF-16/32"},
    RuleInfo{"req-include-cycle", error, "A -r file that includes itself, directly or not"},
    RuleInfo{"req-bad-encoding", error, "A requirements file that is not UTF-8"},
    RuleInfo{"req-hash-missing", error,
             "A requirement without --hash or == pin in pip's hash-checking mode"},
    RuleInfo{"req-deprecated-option", error,
             "--global-option: pip builds every package from source, and 25.3 refuses it"},
    RuleInfo{"req-local-dir-not-installable", error,
             "A local directory requirement without setup.py or pyproject.toml"},
    RuleInfo{"req-conflict", error, "Conflicting version pins for the same package"},
    RuleInfo{"req-duplicate", warning, "The same package listed more than once"},
    RuleInfo{"req-local-path-missing", error, "A local path or file: URL that is not in the model"},
    RuleInfo{"req-relative-path", warning,
             "A relative path, which pip resolves against its working directory"},
    RuleInfo{"req-framework-reinstall", warning, "Reinstalls the framework the container ships"},
    RuleInfo{"req-unpinned", info, "A package without an exact version pin"},
    RuleInfo{"req-needs-network", info, "Installing the requirements at startup needs network"},
    RuleInfo{"req-env-var", info, "A ${VAR} that the endpoint environment must provide"},
    // Weight files, judged by content.
    RuleInfo{"weights-dangerous-pickle", error,
             "A pickle that imports a callable which runs code or commands when it is loaded"},
    RuleInfo{"weights-unknown-code", error,
             "A pickle that imports code outside torch's weights_only allowlist"},
    RuleInfo{"weights-zip-anomaly", error,
             "A weight zip whose directory and local headers disagree, or with duplicate or "
             "overlapping entries"},
    RuleInfo{"weights-corrupt", error,
             "A weight file whose structure is broken: truncated, bad CRC, malformed pickle or "
             "header"},
    RuleInfo{"weights-safetensors-strict", warning,
             "A safetensors file the reference loads but that hides bytes or keys"},
    RuleInfo{"weights-unknown-format", error,
             "A file named for a loader that unpickles (.pt, .bin, .pkl, ...) whose content is "
             "no format smpack can judge"},
    RuleInfo{"weights-not-judged", error,
             "A pickle that a cap or the analysis budget stopped before its end, or whose bytes "
             "are not available"},
    RuleInfo{"weights-keras-lambda", error,
             "A Keras archive with a Lambda layer, whose Python bytecode runs on load"},
    RuleInfo{"weights-not-analysed", warning,
             "A weight format smpack does not parse (HDF5), so what loading it runs is unknown"},
    RuleInfo{"weights-partly-scanned", info,
             "Only part of a weight file could be checked (a streamed archive's window, a cap)"},
};

// A rule of the registry, by reference; compare with ==.
class RuleId {
 public:
  constexpr std::string_view id() const { return info_->id; }
  constexpr const RuleInfo& info() const { return *info_; }
  constexpr bool operator==(const RuleId& other) const { return info_ == other.info_; }

 private:
  friend consteval RuleId rule(std::string_view id);
  constexpr explicit RuleId(const RuleInfo* info) : info_(info) {}
  const RuleInfo* info_;
};

// The registry row of `id`; an ID that is not in kRules fails to compile.
consteval RuleId rule(std::string_view id) {
  for (const auto& row : kRules) {
    if (row.id == id) return RuleId(&row);
  }
  throw "unknown lint rule ID: add it to kRules";
}

}  // namespace smpack::lint_internal
