// S3's XML answers on arbitrary bytes: an error body and a ListObjectsV2 page, as a
// server (or anything pretending to be one) may send them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "s3/s3_error.h"
#include "s3/s3_listing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  (void)smpack::parse_s3_error(body);
  (void)smpack::parse_list_page(body, "s3://fuzz/");
  return 0;
}
