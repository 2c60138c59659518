// `smpack stage`: puts the serving code into a model directory (e.g. /opt/ml/model,
// which SageMaker archives itself at the end of a training job), so the deploy
// needs no repack.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "smpack/archive_writer.h"
#include "smpack/model_tree.h"
#include "smpack/result.h"

namespace smpack {

enum class ExistingCode { refuse_if_different, replace };

struct StageResult {
  bool unchanged = false;            // code/ already held exactly this code
  std::vector<std::string> written;  // code/ paths written
  std::vector<std::string> removed;  // code/ paths that were there and are gone
};

// The model directory as it will be after staging (members and contents), for
// linting before anything is written.
Result<ModelTree> tree_with_code(const std::filesystem::path& model_dir, const SourceSpec& code,
                                 const TreeLoadOptions& options = {});

// Replaces MODEL_DIR/code with the code of `code` (code_dir, entry_point,
// requirements). An existing code/ that differs is a usage error unless
// `existing` is replace. The new folder is assembled beside the old one and
// renamed into place.
Result<StageResult> stage_code(const std::filesystem::path& model_dir, const SourceSpec& code,
                               ExistingCode existing);

}  // namespace smpack
