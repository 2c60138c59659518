// The model signing format without model_signing: the order of files, ignored paths,
// base64, DSSE's encoding, and what a statement or bundle must hold. Interoperability
// with model_signing itself is tested in tests/cli/test_signing.py.
#include "smpack/signing.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "signing/model_signing_format.h"
#include "smpack/digest.h"
#include "test_support.h"
#include "util/base64.h"

namespace smpack {
namespace {

// An unencrypted P-256 key (PKCS#8), generated for these tests only.
constexpr const char* kTestKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJxAfG+Yp3w7P8Nb1\n"
    "vfCWZTRDfrRa45dzb03Xq2dqFQOhRANCAATcvnLwupV7/nev5fBmuA/Q07YDtkC0\n"
    "SlE17MneyZ1b+4UH0UgfXYqPBjSNIaQDCllLny9wYyFesTlORSw9uKus\n"
    "-----END PRIVATE KEY-----\n";

TEST(SigningFormat, FilesAreOrderedComponentByComponent) {
  std::vector<SignedFile> files = {{"a.txt", ""}, {"a-b", ""}, {"a/b", ""}, {"a/b/c", ""},
                                   {"b", ""},     {"Z", ""},   {"é", ""}};
  sort_signed_files(files);
  std::vector<std::string> order;
  for (const auto& f : files) order.push_back(f.path);
  // Bytewise, "a-b" < "a.txt" < "a/b"; PurePosixPath puts the folder's files first.
  EXPECT_EQ(order, (std::vector<std::string>{"Z", "a/b", "a/b/c", "a-b", "a.txt", "b", "é"}));
}

TEST(SigningFormat, IgnorePathsAreReadAsPathlibReadsThem) {
  EXPECT_EQ(normalize_ignore_path("./data//x/"), "data/x");
  EXPECT_EQ(normalize_ignore_path("."), "");  // the model itself: everything
  EXPECT_EQ(normalize_ignore_path("/etc"), std::nullopt);
  EXPECT_EQ(normalize_ignore_path("a/../b"), std::nullopt);
  EXPECT_TRUE(is_under("anything/at/all", ""));
}

TEST(SigningFormat, AnIgnoredPathCoversWhatIsUnderIt) {
  EXPECT_TRUE(is_under(".git/HEAD", ".git"));
  EXPECT_TRUE(is_under(".git", ".git"));
  EXPECT_FALSE(is_under(".gitignore", ".git"));
  EXPECT_FALSE(is_under("code/.git/x", ".git"));  // relative to the model's root only
  EXPECT_TRUE(is_under("code/__pycache__/a.pyc", "code/__pycache__"));
}

TEST(Base64, RoundTripsAndRefusesWhatIsNotBase64) {
  for (const std::string& raw :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", std::string("\0\xff\x10", 3)}) {
    auto back = base64_decode(base64_encode(raw));
    ASSERT_TRUE(back) << raw;
    EXPECT_EQ(*back, raw);
  }
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  for (const char* bad : {"Zm9", "Zm9v\n", "Zm=v", "=m9v", "Zm9v===="})
    EXPECT_FALSE(base64_decode(bad)) << bad;
}

TEST(SigningFormat, DssePreAuthenticationEncoding) {
  // DSSE v1: "DSSEv1" SP len(type) SP type SP len(body) SP body.
  EXPECT_EQ(dsse_pae("{}"), "DSSEv1 28 application/vnd.in-toto+json 2 {}");
}

TEST(SigningFormat, AStatementReadsBackAsWritten) {
  const std::string a = sha256_hex("a"), b = sha256_hex("b");
  const std::string text = statement_json({"m", {{"x/a", a}, {"b", b}}, {".git"}});
  auto statement = parse_statement(text, "t.sig");
  ASSERT_TRUE(statement) << statement.error().message;
  EXPECT_EQ(statement->model_name, "m");
  ASSERT_EQ(statement->files.size(), 2u);
  EXPECT_EQ(statement->files[0].path, "x/a");
  EXPECT_EQ(statement->ignore_paths, std::vector<std::string>{".git"});
}

TEST(SigningFormat, AStatementModelSigningWouldRefuseIsBadInput) {
  auto doc = nlohmann::json::parse(statement_json({"m", {{"a", sha256_hex("a")}}, {}}));
  auto refused = [&](nlohmann::json changed, const std::string& words) {
    auto parsed = parse_statement(changed.dump(), "t.sig");
    ASSERT_FALSE(parsed) << words;
    EXPECT_EQ(parsed.error().kind, ErrorKind::bad_input);
    EXPECT_NE(parsed.error().message.find(words), std::string::npos) << parsed.error().message;
  };
  auto inconsistent = doc;
  inconsistent["predicate"]["resources"][0]["digest"] = sha256_hex("other");
  refused(inconsistent, "not the digest of the listed resources");
  auto shards = doc;
  shards["predicate"]["serialization"]["method"] = "shards";
  refused(shards, "serialized as 'shards'");
  auto escaping = doc;
  escaping["predicate"]["resources"][0]["name"] = "../etc/passwd";
  refused(escaping, "not a plain relative path");
  auto old = doc;
  old["predicateType"] = "https://model_signing/Digests/v0.1";
  refused(old, "model_signing 0.2");
  auto two = doc;
  two["subject"].push_back(two["subject"][0]);
  refused(two, "exactly one subject");
}

TEST(SigningKey, SignsWhatItsPublicKeyVerifies) {
  testing::ScratchDir dir;
  testing::write_file(dir / "key.pem", kTestKey);
  auto key = SigningKey::from_pem_file(dir / "key.pem");
  ASSERT_TRUE(key) << key.error().message;
  auto bundle = sign_files("m", {{"a", sha256_hex("a")}}, default_ignore_paths(), *key);
  ASSERT_TRUE(bundle);
  auto parsed = parse_bundle(*bundle, "t.sig");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->key_hint, key->public_key_hint());
  // The key's own public half verifies the envelope, and nothing else.
  auto der = key->sign("message");
  ASSERT_TRUE(der);
  testing::write_file(dir / "key.pub.pem", key->public_key_pem());
  auto public_key = PublicKey::from_pem_file(dir / "key.pub.pem");
  ASSERT_TRUE(public_key) << public_key.error().message;
  EXPECT_EQ(public_key->hint(), key->public_key_hint());
  EXPECT_TRUE(public_key->verify(dsse_pae(parsed->payload), parsed->signature));
  EXPECT_TRUE(public_key->verify("message", *der));
  EXPECT_FALSE(public_key->verify("messagE", *der));
  EXPECT_FALSE(public_key->verify(dsse_pae(parsed->payload + " "), parsed->signature));
  testing::write_file(dir / "not-a-key.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n");
  auto not_a_key = SigningKey::from_pem_file(dir / "not-a-key.pem");
  ASSERT_FALSE(not_a_key);
  EXPECT_EQ(not_a_key.error().kind, ErrorKind::bad_input);
  EXPECT_EQ(SigningKey::from_pem_file(dir / "absent.pem").error().kind, ErrorKind::usage);
}

TEST(SigningName, ModelNamesAndSignaturePaths) {
  EXPECT_EQ(model_name_of("out/model.tar.gz"), "model");
  EXPECT_EQ(model_name_of("s3://b/k/llama.tgz"), "llama");
  EXPECT_EQ(model_name_of("/opt/ml/model/"), "model");
  EXPECT_EQ(default_signature_path("/opt/ml/model/"), "/opt/ml/model.sig");
  EXPECT_EQ(default_signature_path("m.tar.gz"), "m.tar.gz.sig");
}

}  // namespace
}  // namespace smpack
