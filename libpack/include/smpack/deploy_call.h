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

// The report's profile picks the model class, its handler module SAGEMAKER_PROGRAM, and
// the artifact's location the model data (a placeholder URL for a local artifact).
std::string deploy_call_for(const Artifact& artifact, const LintReport& report, SdkVersion sdk);

}  // namespace smpack
