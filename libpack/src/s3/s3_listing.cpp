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

Result<S3ListPage> parse_list_page(std::string_view body, std::string_view what) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size()) || !doc.child("ListBucketResult")) {
    return Error::io(std::string(what) + ": S3 answered the listing with a body that is not one");
  }
  const auto result = doc.child("ListBucketResult");
  const bool encoded = std::string_view(result.child_value("EncodingType")) == "url";
  S3ListPage page;
  for (auto contents : result.children("Contents")) {
    S3Object object;
    const std::string key = contents.child_value("Key");
    object.key = encoded ? url_decoded(key) : key;
    object.size = std::strtoull(contents.child_value("Size"), nullptr, 10);
    object.etag = etag_without_quotes(contents.child_value("ETag"));
    page.objects.push_back(std::move(object));
  }
  if (std::string_view(result.child_value("IsTruncated")) == "true") {
    page.continuation = result.child_value("NextContinuationToken");
    if (page.continuation.empty()) {
      return Error::io(std::string(what) +
                       ": S3 said the listing continues but gave no continuation token");
    }
  }
  return page;
}

Result<S3Listing> list_objects(S3Session& session, const S3Url& url, std::uint64_t max_keys) {
  S3Listing listing;
  std::string continuation;
  const std::string what = url.text();
  for (;;) {
    auto response = session.send(
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
    if (!response) return std::move(response).error();
    auto page = parse_list_page(response->body, what);
    if (!page) return std::move(page).error();
    for (auto& object : page->objects) {
      if (listing.objects.size() >= max_keys) {
        listing.truncated = true;
        return listing;
      }
      listing.objects.push_back(std::move(object));
    }
    if (page->continuation.empty()) return listing;
    continuation = std::move(page->continuation);
  }
}

}  // namespace smpack
