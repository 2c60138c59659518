// The deploy call that needs no repack, for an artifact as lint judged it: what `info`,
// `lint` and the Python module print.
#pragma once

#include <string>

#include "smpack/artifact.h"
#include "smpack/lint.h"
#include "smpack/sdk_version.h"

namespace smpack {

// CreateModel's ModelDataSource for an artifact in S3 (an object with the ETag that was
// read, or a prefix); "" for a local one.
std::string model_data_source_of(const Artifact& artifact);

// The report's profile picks the model class and the environment (SAGEMAKER_PROGRAM from
// its handler module for the toolkits; HF_MODEL_ID=/opt/ml/model for TGI and TEI, whose
// SageMaker entrypoints require it), and the artifact's location the model data: its S3
// object or prefix, else a placeholder (a prefix one when `as_prefix`, lint --layout prefix).
std::string deploy_call_for(const Artifact& artifact, const LintReport& report, SdkVersion sdk,
                            bool as_prefix = false);

}  // namespace smpack
