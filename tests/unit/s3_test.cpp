// The S3 pieces that need no server: URLs, the S3 way of percent-encoding, the shared
// credential files, S3's error bodies and what they mean.
#include "smpack/s3.h"

#include <gtest/gtest.h>

#include "s3/aws_config_file.h"
#include "s3/canonical_query.h"
#include "s3/s3_error.h"
#include "s3/sigv4.h"
#include "test_support.h"
#include "util/uri_encoding.h"

namespace smpack {
namespace {

TEST(S3Url, ObjectsAndPrefixes) {
  auto object = parse_s3_url("s3://my-bucket/models/model.tar.gz");
  ASSERT_TRUE(object);
  EXPECT_EQ(object->bucket, "my-bucket");
  EXPECT_EQ(object->key, "models/model.tar.gz");
  EXPECT_FALSE(object->names_prefix());
  EXPECT_EQ(object->text(), "s3://my-bucket/models/model.tar.gz");
  EXPECT_TRUE(parse_s3_url("s3://my-bucket/models/")->names_prefix());
  EXPECT_TRUE(parse_s3_url("s3://my-bucket")->names_prefix());
  EXPECT_FALSE(is_s3_url("/tmp/s3://x"));
}

TEST(S3Url, BadBucketsAreUsageErrors) {
  for (const char* bad : {"s3://", "s3:///key", "s3://ab/key", "s3://bad bucket/key"}) {
    auto url = parse_s3_url(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_EQ(url.error().kind, ErrorKind::usage) << bad;
  }
}

TEST(UriEncoding, KeysKeepSlashesAndEncodeEverythingElse) {
  EXPECT_EQ(uri_encode("code/a b+c=d.py", true), "code/a%20b%2Bc%3Dd.py");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(uri_encode("-_.~", false), "-_.~");
  EXPECT_EQ(uri_encode("\xc3\xbc", true), "%C3%BC");  // UTF-8 bytes, upper-case hex
}

TEST(UriEncoding, CanonicalQueryIsSortedAndEncoded) {
  // curl 7.88 signs the query as given, so it must already be SigV4's canonical form.
  EXPECT_EQ(canonical_query({{"prefix", "models/a b"}, {"list-type", "2"}, {"uploads", ""}}),
            "list-type=2&prefix=models%2Fa%20b&uploads=");
}

TEST(AwsSharedFile, ProfilesOfBothFiles) {
  testing::ScratchDir dir;
  testing::write_file(dir / "config",
                      "# comment\n[default]\nregion = eu-west-1\n"
                      "[profile ml]\nregion=us-west-2\ns3 =\n  addressing_style = path\n"
                      "aws_access_key_id = AKIA\n");
  auto config = read_aws_shared_file(dir / "config");
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->exists);
  ASSERT_TRUE(config->profile("default", true));
  EXPECT_EQ(config->profile("default", true)->at("region"), "eu-west-1");
  const auto* ml = config->profile("ml", true);
  ASSERT_TRUE(ml);
  EXPECT_EQ(ml->at("region"), "us-west-2");
  EXPECT_EQ(ml->at("aws_access_key_id"), "AKIA");
  EXPECT_FALSE(ml->contains("addressing_style"));  // nested: not a profile setting
  // The credentials file names sections without "profile ".
  EXPECT_EQ(config->profile("ml", false), nullptr);
  auto missing = read_aws_shared_file(dir / "nothing");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->exists);
}

TEST(S3Error, BodyAndRegion) {
  const auto error = parse_s3_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed"
      "</Code><Message>wrong region</Message><Region>eu-west-1</Region></Error>");
  EXPECT_EQ(error.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(error.region, "eu-west-1");
  HttpResponse response;
  response.status = 400;
  EXPECT_EQ(bucket_region_from(response, error), "eu-west-1");
  response.status = 301;
  response.headers["x-amz-bucket-region"] = "ap-south-1";
  EXPECT_EQ(bucket_region_from(response, parse_s3_error("")), "ap-south-1");
  EXPECT_TRUE(parse_s3_error("not xml <").code.empty());
}

TEST(S3Error, WhatIsRetried) {
  HttpResponse response;
  response.status = 503;
  EXPECT_TRUE(is_retryable(response, parse_s3_error("<Error><Code>SlowDown</Code></Error>")));
  response.status = 404;
  EXPECT_FALSE(is_retryable(response, parse_s3_error("<Error><Code>NoSuchKey</Code></Error>")));
  response.status = 0;
  response.transport_error = "Connection reset by peer";
  EXPECT_TRUE(is_retryable(response, {}));
  response.stopped = true;  // stopped on purpose (cancelled): never again
  EXPECT_FALSE(is_retryable(response, {}));
}

TEST(S3Error, MessagesNameWhatIsWrong) {
  const S3FailureContext context{"s3://b/k", "b", "us-east-1", "profile 'ml' in /x/credentials"};
  HttpResponse denied;
  denied.status = 403;
  auto error = describe_s3_failure(
      denied, parse_s3_error("<Error><Code>AccessDenied</Code></Error>"), context);
  EXPECT_EQ(error.kind, ErrorKind::io);
  EXPECT_NE(error.message.find("access denied to bucket 'b'"), std::string::npos);
  EXPECT_NE(error.message.find("profile 'ml' in /x/credentials"), std::string::npos);
  HttpResponse changed;
  changed.status = 412;
  EXPECT_NE(describe_s3_failure(changed, {}, context).message.find("changed while"),
            std::string::npos);
}

}  // namespace
}  // namespace smpack

namespace smpack {
namespace {

// AWS's worked example for S3 (GET Object, "Examples: Signature Calculations in AWS
// Signature Version 4"): the same request must give the published signature.
TEST(SigV4, AwsPublishedExample) {
  const SigV4Signing signing{"us-east-1", "AKIAIOSFODNN7EXAMPLE",
                             "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
  const std::time_t may_24_2013 = 1369353600;
  const auto headers = sigv4_headers(
      signing, "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
      {"Range: bytes=0-9",
       "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      may_24_2013);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0], "x-amz-date: 20130524T000000Z");
  EXPECT_EQ(headers[1],
            "Authorization: AWS4-HMAC-SHA256 "
            "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, OnlyPrefixNamesAreSignedHere) {
  EXPECT_TRUE(curl_misorders({"x-amz-copy-source: /b/k", "x-amz-copy-source-range: bytes=0-9"}));
  EXPECT_FALSE(curl_misorders({"Range: bytes=0-9", "If-Match: \"e\""}));
}

}  // namespace
}  // namespace smpack
