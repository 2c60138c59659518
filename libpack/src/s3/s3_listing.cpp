#include "s3/s3_listing.h"

#include <pugixml.hpp>

namespace smpack {
namespace {

// S3's encoding-type=url: percent-encoding, with '+' for a space.
std::string url_decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

Result<S3Listing> list_objects(S3Session& session, const S3Url& url, std::uint64_t max_keys) {
  S3Listing listing;
  auto& objects = listing.objects;
  std::string continuation;
  const std::string what = url.text();
  for (;;) {
    auto page = session.send(
        [&] {
          S3Request request;
          request.bucket = url.bucket;
          request.query = {{"list-type", "2"}, {"prefix", url.key}, {"encoding-type", "url"}};
          // A short listing asks for no more than it keeps.
          if (max_keys < 1000) request.query.emplace_back("max-keys", std::to_string(max_keys + 1));
          if (!continuation.empty()) request.query.emplace_back("continuation-token", continuation);
          return request;
        },
        what);
    if (!page) return std::move(page).error();
    pugi::xml_document doc;
    if (!doc.load_buffer(page->body.data(), page->body.size())) {
      return Error::io(what + ": S3 answered the listing with a body that is not XML");
    }
    const auto result = doc.child("ListBucketResult");
    const bool encoded = std::string_view(result.child_value("EncodingType")) == "url";
    for (auto contents : result.children("Contents")) {
      if (objects.size() >= max_keys) {
        listing.truncated = true;
        return listing;
      }
      S3Object object;
      const std::string key = contents.child_value("Key");
      object.key = encoded ? url_decoded(key) : key;
      object.size = std::strtoull(contents.child_value("Size"), nullptr, 10);
      object.etag = etag_without_quotes(contents.child_value("ETag"));
      objects.push_back(std::move(object));
    }
    if (std::string_view(result.child_value("IsTruncated")) != "true") break;
    continuation = result.child_value("NextContinuationToken");
    if (continuation.empty()) {
      return Error::io(what + ": S3 said the listing continues but gave no continuation token");
    }
  }
  return listing;
}

}  // namespace smpack
