// Credentials, region and endpoint, found in the order the AWS CLI looks:
//   credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN]; the profile
//     (AWS_PROFILE, else "default") in the shared credentials file, then in the config
//     file; the container credentials URL; the instance role through IMDSv2 (unless
//     AWS_EC2_METADATA_DISABLED).
//   region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1.
//   endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, else AWS.
#pragma once

#include <string>

#include "s3/http_client.h"
#include "smpack/result.h"
#include "smpack/s3.h"

namespace smpack {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term keys
  std::string source;         // "environment variables", "profile 'x' in /path", ...
};

struct AwsSetup {
  AwsCredentials credentials;
  std::string region;
  std::string endpoint;  // "" for AWS itself; else e.g. http://127.0.0.1:9000
};

Result<AwsSetup> resolve_aws_setup(const AwsEnvironment& environment, HttpClient& http,
                                   const CancelToken* cancel);

}  // namespace smpack
