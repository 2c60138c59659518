#include "s3/sigv4.h"

#include <openssl/hmac.h>

#include <algorithm>

#include "smpack/digest.h"
#include "util/ascii_text.h"

namespace smpack {
namespace {

struct Header {
  std::string name;   // lower case
  std::string value;  // trimmed, inner runs of spaces as one
};

Header canonical(const std::string& line) {
  const auto colon = line.find(':');
  Header header;
  header.name = ascii_lower(line.substr(0, colon));
  bool space = false;
  for (char c : line.substr(colon == std::string::npos ? line.size() : colon + 1)) {
    if (c == ' ' || c == '\t') {
      space = !header.value.empty();
      continue;
    }
    if (space) header.value += ' ';
    space = false;
    header.value += c;
  }
  return header;
}

std::string hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string hex(const std::string& raw) {
  return to_hex(std::as_bytes(std::span(raw.data(), raw.size())));
}

}  // namespace

bool curl_misorders(const std::vector<std::string>& headers) {
  std::vector<std::string> names;
  for (const auto& line : headers) names.push_back(canonical(line).name);
  for (const auto& a : names) {
    for (const auto& b : names) {
      if (a.size() < b.size() && b.starts_with(a)) return true;
    }
  }
  return false;
}

std::vector<std::string> sigv4_headers(const SigV4Signing& signing, const std::string& method,
                                       const std::string& url,
                                       const std::vector<std::string>& headers, std::time_t now) {
  // scheme://host[:port]/path?query, already encoded the S3 way.
  const auto host_start = url.find("://") + 3;
  const auto path_start = url.find('/', host_start);
  const std::string host = url.substr(host_start, path_start - host_start);
  const std::string target = path_start == std::string::npos ? "/" : url.substr(path_start);
  const auto question = target.find('?');
  const std::string path = target.substr(0, question);
  const std::string query = question == std::string::npos ? "" : target.substr(question + 1);

  char stamp[17];
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  const std::string date(stamp, 8);

  std::vector<Header> canonical_headers{{"host", host}, {"x-amz-date", stamp}};
  std::string payload_hash;
  for (const auto& line : headers) {
    Header header = canonical(line);
    if (header.name == "x-amz-content-sha256") payload_hash = header.value;
    canonical_headers.push_back(std::move(header));
  }
  std::sort(canonical_headers.begin(), canonical_headers.end(),
            [](const Header& a, const Header& b) { return a.name < b.name; });
  std::string header_block, signed_headers;
  for (const auto& header : canonical_headers) {
    header_block += header.name + ":" + header.value + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + header.name;
  }
  const std::string request = method + "\n" + path + "\n" + query + "\n" + header_block + "\n" +
                              signed_headers + "\n" + payload_hash;
  const std::string scope = date + "/" + signing.region + "/s3/aws4_request";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + std::string(stamp) + "\n" + scope + "\n" + sha256_hex(request);
  std::string key = hmac("AWS4" + signing.secret_access_key, date);
  key = hmac(key, signing.region);
  key = hmac(key, "s3");
  key = hmac(key, "aws4_request");
  return {"x-amz-date: " + std::string(stamp),
          "Authorization: AWS4-HMAC-SHA256 Credential=" + signing.access_key_id + "/" + scope +
              ", SignedHeaders=" + signed_headers + ", Signature=" + hex(hmac(key, to_sign))};
}

}  // namespace smpack
