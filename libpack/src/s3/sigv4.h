// SigV4 for the requests curl 7.88 signs wrongly. curl sorts the canonical headers as
// whole "name:value" lines, so a header whose name is a prefix of another's
// (x-amz-copy-source before x-amz-copy-source-range, as UploadPartCopy sends them)
// lands out of SigV4's order by name and S3 refuses the signature; later curls sort
// by name. Every other request is signed by curl itself (CURLOPT_AWS_SIGV4).
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "s3/http_client.h"

namespace smpack {

// Whether two of `headers` ("name: value") have names of which one is a prefix of the
// other.
bool curl_misorders(const std::vector<std::string>& headers);

// The X-Amz-Date and Authorization headers for `method url` with `headers` (which must
// hold x-amz-content-sha256), signed for S3 in signing.region at `now`.
std::vector<std::string> sigv4_headers(const SigV4Signing& signing, const std::string& method,
                                       const std::string& url,
                                       const std::vector<std::string>& headers, std::time_t now);

}  // namespace smpack
