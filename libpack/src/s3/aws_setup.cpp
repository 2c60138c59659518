#include "s3/aws_setup.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "s3/aws_config_file.h"

namespace smpack {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kContainerHost = "http://169.254.170.2";
constexpr std::string_view kImdsEndpoint = "http://169.254.169.254";
// As the AWS CLI: one attempt, one second each, so that a machine with no instance
// role is not kept waiting.
constexpr std::chrono::milliseconds kMetadataTimeout{1000};

struct Profiles {
  std::string name;
  bool named_explicitly = false;
  AwsSharedFile credentials;
  AwsSharedFile config;

  const AwsProfileSettings* in_credentials() const { return credentials.profile(name, false); }
  const AwsProfileSettings* in_config() const { return config.profile(name, true); }
  std::string setting(std::string_view key) const {
    for (const auto* settings : {in_credentials(), in_config()}) {
      if (!settings) continue;
      if (auto it = settings->find(key); it != settings->end() && !it->second.empty())
        return it->second;
    }
    return {};
  }
};

fs::path shared_file(const AwsEnvironment& env, std::string_view variable,
                     std::string_view default_name) {
  if (auto path = env.get(variable)) return *path;
  return fs::path(env.get("HOME").value_or("")) / ".aws" / default_name;
}

Result<Profiles> read_profiles(const AwsEnvironment& env) {
  Profiles profiles;
  profiles.named_explicitly = env.get("AWS_PROFILE").has_value();
  profiles.name = env.get("AWS_PROFILE").value_or("default");
  auto credentials =
      read_aws_shared_file(shared_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials"));
  if (!credentials) return std::move(credentials).error();
  auto config = read_aws_shared_file(shared_file(env, "AWS_CONFIG_FILE", "config"));
  if (!config) return std::move(config).error();
  profiles.credentials = std::move(*credentials);
  profiles.config = std::move(*config);
  return profiles;
}

std::optional<AwsCredentials> from_environment(const AwsEnvironment& env) {
  auto id = env.get("AWS_ACCESS_KEY_ID");
  auto secret = env.get("AWS_SECRET_ACCESS_KEY");
  if (!id || !secret) return std::nullopt;
  return AwsCredentials{*id, *secret, env.get("AWS_SESSION_TOKEN").value_or(""),
                        "environment variables"};
}

// A profile that gets its keys some other way: smpack runs none of those flows.
Result<void> refuse_unsupported(const Profiles& profiles) {
  for (const auto* settings : {profiles.in_credentials(), profiles.in_config()}) {
    if (!settings) continue;
    for (const auto& [key, value] : *settings) {
      if (key == "role_arn" || key == "credential_process" || key.starts_with("sso_") ||
          key == "web_identity_token_file") {
        return Error::usage("AWS profile '" + profiles.name + "' gets its credentials through " +
                            key +
                            ", which smpack does not support; export them instead: eval "
                            "\"$(aws configure export-credentials --profile " +
                            profiles.name + " --format env)\"");
      }
    }
  }
  return {};
}

Result<std::optional<AwsCredentials>> from_profile(const Profiles& profiles) {
  if (auto refused = refuse_unsupported(profiles); !refused) return std::move(refused).error();
  for (const auto* file : {&profiles.credentials, &profiles.config}) {
    const auto* settings = file->profile(profiles.name, file == &profiles.config);
    if (!settings) continue;
    auto id = settings->find("aws_access_key_id");
    auto secret = settings->find("aws_secret_access_key");
    if (id == settings->end() || secret == settings->end()) continue;
    auto token = settings->find("aws_session_token");
    return std::optional<AwsCredentials>(AwsCredentials{
        id->second, secret->second, token == settings->end() ? std::string() : token->second,
        "profile '" + profiles.name + "' in " + file->path.string()});
  }
  if (profiles.named_explicitly && !profiles.in_credentials() && !profiles.in_config()) {
    return Error::usage("AWS profile '" + profiles.name + "' is in neither " +
                        profiles.credentials.path.string() + " nor " +
                        profiles.config.path.string());
  }
  return std::optional<AwsCredentials>();
}

// {"AccessKeyId", "SecretAccessKey", "Token"} as both the container endpoint and IMDS
// answer it.
Result<AwsCredentials> parse_credential_document(const std::string& body, std::string source) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("AccessKeyId") || !doc.contains("SecretAccessKey") ||
      !doc["AccessKeyId"].is_string() || !doc["SecretAccessKey"].is_string()) {
    return Error::io(source + " answered without AccessKeyId and SecretAccessKey");
  }
  AwsCredentials credentials;
  credentials.access_key_id = doc["AccessKeyId"].get<std::string>();
  credentials.secret_access_key = doc["SecretAccessKey"].get<std::string>();
  if (doc.contains("Token") && doc["Token"].is_string())
    credentials.session_token = doc["Token"].get<std::string>();
  credentials.source = std::move(source);
  return credentials;
}

// The credentials a credential endpoint answered; an io error naming it otherwise.
Result<std::optional<AwsCredentials>> credentials_answered(const HttpResponse& response,
                                                           const std::string& source) {
  if (!response.transport_error.empty()) return Error::io(source + ": " + response.transport_error);
  if (response.status != 200)
    return Error::io(source + ": HTTP " + std::to_string(response.status));
  auto credentials = parse_credential_document(response.body, source);
  if (!credentials) return std::move(credentials).error();
  return std::optional<AwsCredentials>(std::move(*credentials));
}

HttpResponse metadata_request(HttpClient& http, std::string method, std::string url,
                              std::vector<std::string> headers, const CancelToken* cancel) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.connect_timeout = kMetadataTimeout;
  request.total_timeout = 2 * kMetadataTimeout;
  request.cancel = cancel;
  return http.perform(request);
}

Result<std::optional<AwsCredentials>> from_container(const AwsEnvironment& env, HttpClient& http,
                                                     const CancelToken* cancel) {
  std::string url;
  if (auto relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = std::string(kContainerHost) + *relative;
  } else if (auto full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
  } else {
    return std::optional<AwsCredentials>();
  }
  std::vector<std::string> headers;
  std::string token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN").value_or("");
  if (auto file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    std::ifstream in(*file);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return Error::io(*file + ": the container authorization token cannot be read");
    token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  if (!token.empty()) headers.push_back("Authorization: " + token);
  const std::string source = "container credentials at " + url;
  return credentials_answered(metadata_request(http, "GET", url, headers, cancel), source);
}

bool metadata_disabled(const AwsEnvironment& env) {
  auto value = env.get("AWS_EC2_METADATA_DISABLED").value_or("");
  for (auto& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value == "true";
}

// IMDSv2: a session token from PUT /latest/api/token, then the role's credentials.
// No instance (nothing answers) is "no credentials here", not an error.
Result<std::optional<AwsCredentials>> from_instance_role(const AwsEnvironment& env,
                                                         HttpClient& http,
                                                         const CancelToken* cancel) {
  std::string base =
      env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kImdsEndpoint));
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto token = metadata_request(http, "PUT", base + "/latest/api/token",
                                {"X-aws-ec2-metadata-token-ttl-seconds: 21600"}, cancel);
  if (!token.transport_error.empty() || token.status != 200) return std::optional<AwsCredentials>();
  const std::string token_header = "X-aws-ec2-metadata-token: " + token.body;
  const std::string roles_url = base + "/latest/meta-data/iam/security-credentials/";
  auto roles = metadata_request(http, "GET", roles_url, {token_header}, cancel);
  if (!roles.transport_error.empty() || roles.status != 200) return std::optional<AwsCredentials>();
  const std::string role = roles.body.substr(0, roles.body.find('\n'));
  if (role.empty()) return std::optional<AwsCredentials>();
  const std::string source = "instance role '" + role + "' through IMDS at " + base;
  return credentials_answered(
      metadata_request(http, "GET", roles_url + role, {token_header}, cancel), source);
}

Result<AwsCredentials> resolve_credentials(const AwsEnvironment& env, const Profiles& profiles,
                                           HttpClient& http, const CancelToken* cancel) {
  if (auto credentials = from_environment(env)) return std::move(*credentials);
  auto profile = from_profile(profiles);
  if (!profile) return std::move(profile).error();
  if (*profile) return std::move(**profile);
  auto container = from_container(env, http, cancel);
  if (!container) return std::move(container).error();
  if (*container) return std::move(**container);
  const bool imds = !metadata_disabled(env);
  if (imds) {
    auto role = from_instance_role(env, http, cancel);
    if (!role) return std::move(role).error();
    if (*role) return std::move(**role);
  }
  return Error::io("no AWS credentials: looked in the environment (AWS_ACCESS_KEY_ID), profile '" +
                   profiles.name + "' in " + profiles.credentials.path.string() + " and " +
                   profiles.config.path.string() + ", the container credentials URL" +
                   (imds ? ", and the instance role (IMDS answered none)"
                         : "; the instance role was not asked (AWS_EC2_METADATA_DISABLED)"));
}

}  // namespace

Result<AwsSetup> resolve_aws_setup(const AwsEnvironment& env, HttpClient& http,
                                   const CancelToken* cancel) {
  auto profiles = read_profiles(env);
  if (!profiles) return std::move(profiles).error();
  auto credentials = resolve_credentials(env, *profiles, http, cancel);
  if (!credentials) return std::move(credentials).error();
  AwsSetup setup;
  setup.credentials = std::move(*credentials);
  setup.region = env.get("AWS_REGION")
                     .value_or(env.get("AWS_DEFAULT_REGION").value_or(profiles->setting("region")));
  if (setup.region.empty()) setup.region = "us-east-1";
  setup.endpoint =
      env.get("AWS_ENDPOINT_URL_S3")
          .value_or(env.get("AWS_ENDPOINT_URL").value_or(profiles->setting("endpoint_url")));
  while (!setup.endpoint.empty() && setup.endpoint.back() == '/') setup.endpoint.pop_back();
  return setup;
}

}  // namespace smpack
