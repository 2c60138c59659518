// `smpack stage`: puts the serving code into a model directory (e.g. /opt/ml/model,
// which SageMaker archives itself at the end of a training job), so the deploy
// needs no repack.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "smpack/archive_writer.h"
#include "smpack/lint.h"
#include "smpack/model_tree.h"
#include "smpack/result.h"

namespace smpack {

enum class ExistingCode { refuse_if_different, replace };

struct StageResult {
  bool unchanged = false;             // code/ already held exactly this code
  std::vector<std::string> written;   // code/ paths written from the given code
  std::vector<std::string> kept;      // code/ files kept (an entry point or requirements alone)
  std::vector<std::string> removed;   // code/ paths that were there and are gone
  std::optional<LintReport> refused;  // the lint gate's report when it refused
  std::string deploy_call;            // the SDK call that deploys the model without a repack
};

struct StageOptions {
  ExistingCode existing = ExistingCode::refuse_if_different;
  bool lint = true;                 // the lint gate (lint_gate)
  SdkVersion sdk = SdkVersion::v3;  // of StageResult::deploy_call
  const CancelToken* cancel = nullptr;
};

// Replaces MODEL_DIR/code with the code of `code` (code_dir, entry_point,
// requirements). An existing code/ that differs is a usage error unless
// options.existing is replace. The new folder is assembled beside the old one and
// renamed into place. When the lint gate refuses, nothing is written and
// StageResult::refused holds its report.
Result<StageResult> stage_code(const std::filesystem::path& model_dir, const SourceSpec& code,
                               const StageOptions& options);

// {"model_dir", "unchanged", "written", "kept", "removed", "deploy_call"} (docs/cli.md).
std::string stage_json(const std::string& model_dir, const StageResult& result);

}  // namespace smpack
