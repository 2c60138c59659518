// Who probably wrote an archive, and why we think so (shown by `info`).
#pragma once

#include <string_view>

#include "smpack/model_tree.h"

namespace smpack {

// Sets facts.writer and facts.writer_evidence from the container facts and the first
// member's name as stored.
void identify_writer(ArchiveFacts& facts, std::string_view first_stored_path);

}  // namespace smpack
