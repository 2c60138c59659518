#include "artifact/writer_evidence.h"

#include <string>

namespace smpack {

void identify_writer(ArchiveFacts& facts, std::string_view first_stored_path) {
  if (facts.index_version) {
    facts.writer = "smpack";
    facts.writer_evidence =
        "an smpack index (format version " + std::to_string(*facts.index_version) + ") at the end";
    if (facts.foreign_prefix_bytes > 0) {
      facts.writer = "smpack, spliced onto another writer's archive";
      facts.writer_evidence += "; its first " + std::to_string(facts.foreign_prefix_bytes) +
                               " bytes are another writer's gzip members, kept as they were "
                               "(read in order only)";
    }
  } else if (first_stored_path == "/" || facts.gzip.file_name.rfind("temp-model.tar", 0) == 0) {
    facts.writer = "SageMaker SDK repack";
    facts.writer_evidence = first_stored_path == "/"
                                ? "the first member is a root directory named '/'"
                                : "the gzip header names '" + facts.gzip.file_name + "'";
  } else if (facts.tar_format.find("GNU") != std::string::npos) {
    facts.writer = "GNU tar";
    facts.writer_evidence = "GNU tar header magic";
  } else if (!facts.gzip.file_name.empty() && facts.tar_format.find("pax") != std::string::npos) {
    facts.writer = "Python tarfile";
    facts.writer_evidence = "pax headers and a gzip header naming '" + facts.gzip.file_name + "'";
  } else {
    facts.writer = "unknown";
  }
}

}  // namespace smpack
