#include "smpack/invoke.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "io/temp_dir.h"
#include "python/requirements.h"
#include "serving/invoke_driver.h"
#include "serving/python_child.h"
#include "smpack/extract.h"
#include "smpack/lint.h"
#include "util/base64.h"

namespace smpack {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

std::string seconds_text(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g s", std::chrono::duration<double>(duration).count());
  return text;
}

// code/requirements.txt against what the Python has: pip's own names (PEP 503) and PEP 440
// specifiers; URLs and paths are not compared.
void compare_requirements(const std::string& text, const Json& installed,
                          HandlerSessionFacts& facts) {
  std::map<std::string, std::string> versions;
  for (const auto& [name, version] : installed.items())
    versions[normalize_project_name(name)] = version.get<std::string>();
  for (const auto& requirement : parse_requirements(text).requirements) {
    if (requirement.form != RequirementForm::named || requirement.normalized_name.empty()) continue;
    const auto found = versions.find(requirement.normalized_name);
    if (found == versions.end()) {
      facts.missing.push_back({requirement.line, requirement.text, ""});
      continue;
    }
    const auto version = parse_pep440_version(found->second);
    const bool allowed = std::all_of(
        requirement.specifiers.begin(), requirement.specifiers.end(), [&](const auto& spec) {
          return version && specifier_allows(spec, *version).value_or(true);
        });
    if (!allowed)
      facts.other_versions.push_back({requirement.line, requirement.text, found->second});
  }
}

// The module the toolkit imports from code/: SAGEMAKER_PROGRAM is its file name there.
std::string program_of(const std::string& handler_module) {
  const std::string prefix = "code/";
  return handler_module.starts_with(prefix) ? handler_module.substr(prefix.size()) : handler_module;
}

}  // namespace

struct HandlerSession::State {
  std::optional<TempDir> scratch;
  std::optional<PythonChild> child;
  HandlerSessionFacts facts;
  std::chrono::milliseconds request_timeout{};
  const CancelToken* cancel = nullptr;
  mutable std::mutex mutex;
  mutable bool stopped = false;
  mutable std::uint64_t last_request = 0;
  mutable std::string stop_reason;
};

HandlerSession::HandlerSession(std::unique_ptr<State> state) : state_(std::move(state)) {}
HandlerSession::~HandlerSession() = default;

const HandlerSessionFacts& HandlerSession::facts() const {
  return state_->facts;
}

Result<std::unique_ptr<HandlerSession>> HandlerSession::start(const Artifact& artifact,
                                                              const InvokeOptions& options) {
  auto state = std::make_unique<State>();
  state->request_timeout = options.request_timeout;
  state->cancel = options.cancel;
  auto& facts = state->facts;

  auto scratch = TempDir::create("smpack-invoke");
  if (!scratch) return std::move(scratch).error();
  state->scratch.emplace(std::move(*scratch));
  fs::path model_dir;
  std::optional<Artifact> extracted;
  if (artifact.kind() == ArtifactKind::directory) {
    model_dir = fs::absolute(artifact.name());
  } else {
    model_dir = state->scratch->path() / "model";
    ExtractOptions extract;
    extract.cancel = options.cancel;
    if (auto written = extract_archive(artifact, model_dir, extract); !written)
      return std::move(written).error();
    // The archive is read once, by the extraction; lint reads the folder it made.
    auto folder = Artifact::open(model_dir);
    if (!folder) return std::move(folder).error();
    extracted.emplace(std::move(*folder));
  }

  // What lint finds: the framework, and the handler module the container imports.
  VisitOptions visit;
  visit.cancel = options.cancel;
  auto tree = (extracted ? *extracted : artifact).visit(visit);
  if (!tree) return std::move(tree).error();
  LintOptions lint_options;
  for (const auto& [key, value] : options.endpoint_environment) lint_options.env[key] = value;
  const auto lint = lint_tree(*tree, lint_options);
  facts.framework = std::string(name_of(lint.profile));
  facts.handler_module = lint.handler_module;

  const auto driver = state->scratch->path() / "invoke_driver.py";
  {
    std::ofstream file(driver, std::ios::binary);
    const auto text = invoke_driver_source();
    file.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!file.flush()) return Error::io(driver.string() + ": cannot write");
  }

  // The environment the container gives the toolkit, over what the caller passes on.
  auto environment = options.inherited_environment;
  environment["SAGEMAKER_SUBMIT_DIRECTORY"] = (model_dir / "code").string();
  environment["SAGEMAKER_CONTAINER_LOG_LEVEL"] = "20";
  environment["SAGEMAKER_MODEL_SERVER_TIMEOUT"] = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(options.request_timeout).count());
  if (!facts.handler_module.empty())
    environment["SAGEMAKER_PROGRAM"] = program_of(facts.handler_module);
  for (const auto& [key, value] : options.endpoint_environment) environment[key] = value;
  environment["PYTHONUNBUFFERED"] = "1";
  environment["PYTHONDONTWRITEBYTECODE"] = "1";
  // No credentials from the caller's ~/.aws and no instance-metadata lookups: the
  // handlers run offline, and one that reaches for AWS should fail here.
  environment["AWS_EC2_METADATA_DISABLED"] = "true";
  environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
  environment["AWS_CONFIG_FILE"] = "/dev/null";
  // The handlers' temporary files go with the scratch folder.
  const auto handler_tmp = state->scratch->path() / "tmp";
  fs::create_directories(handler_tmp);
  environment["TMPDIR"] = handler_tmp.string();

  const std::string framework = lint.profile == Profile::pytorch ? "pytorch" : "generic";
  auto child = PythonChild::spawn(options.python, {driver.string(), model_dir.string(), framework},
                                  environment, model_dir);
  if (!child) return std::move(child).error();
  state->child.emplace(std::move(*child));

  const auto deadline = PythonChild::Clock::now() + options.load_timeout;
  while (true) {
    auto line = state->child->read_line(deadline, options.cancel);
    if (!line) {
      if (line.error().kind == ErrorKind::interrupted) return std::move(line).error();
      const auto ended = state->child->stop();
      if (facts.python.empty()) {
        return Error::bad_input(options.python + " ended (" + ended +
                                ") before smpack's driver started: is it a Python 3?");
      }
      facts.load_failure = "the Python process ended (" + ended + ") while loading the model";
      break;
    }
    if (!*line) {
      state->child->stop();
      facts.load_failure = "the model did not load within " + seconds_text(options.load_timeout) +
                           " (--model-load-timeout); the Python process was stopped";
      break;
    }
    const auto event = Json::parse(**line, nullptr, false);
    if (!event.is_object()) continue;
    const auto kind = event.value("event", "");
    if (kind == "missing") {
      std::string packages = "sagemaker-inference";
      if (framework == "pytorch") packages += " sagemaker-pytorch-inference";
      return Error::bad_input(options.python + " cannot import the SageMaker inference toolkit (" +
                              event.value("error", "") + "); install it into that Python: " +
                              options.python + " -m pip install " + packages);
    }
    if (kind == "started") {
      facts.python = event.value("python", options.python);
      facts.python_version = event.value("version", "");
      facts.toolkit_version = event.value("toolkit", "");
      facts.default_handler = event.value("handler", "");
      if (const auto* requirements = tree->content("code/requirements.txt")) {
        facts.has_requirements = true;
        compare_requirements(*requirements, event["installed"], facts);
      }
    } else if (kind == "loaded") {
      facts.load_ms = event.value("ms", 0.0);
      break;
    } else if (kind == "load_failed") {
      facts.load_failure = event.value("traceback", "model_fn failed");
      state->child->stop();
      break;
    }
  }
  if (facts.load_failure) {
    state->stopped = true;
    state->stop_reason = "the model did not load";
  }
  return std::unique_ptr<HandlerSession>(new HandlerSession(std::move(state)));
}

InvocationResponse HandlerSession::invoke(const Invocation& request) const {
  std::lock_guard lock(state_->mutex);
  if (state_->stopped)
    return {503, "the Python process was stopped: " + state_->stop_reason, "text/plain"};
  // Each request carries an id the driver echoes, so a line a handler writes into the
  // events (or an answer to an earlier request) is never taken for this one's.
  const auto id = ++state_->last_request;
  Json message{{"id", id},
               {"body", base64_encode(request.body)},
               {"content_type", request.content_type ? Json(*request.content_type) : Json()},
               {"accept", request.accept ? Json(*request.accept) : Json()}};
  auto& child = *state_->child;
  // Stops the Python (a timeout, Ctrl-C, a broken pipe): later requests get a 503.
  auto stop = [&](int status, std::string why) -> InvocationResponse {
    state_->stopped = true;
    state_->stop_reason = why;
    child.stop();
    return {status, why, "text/plain"};
  };
  auto failed = [&](const Error& error) {
    return error.kind == ErrorKind::interrupted ? stop(503, "interrupted")
                                                : stop(500, error.message);
  };
  const auto no_response = [&] {
    return stop(504, "no response within " + seconds_text(state_->request_timeout) +
                         " (--timeout): the handler was stopped");
  };
  const auto deadline = PythonChild::Clock::now() + state_->request_timeout;
  auto sent = child.write_line(message.dump(), deadline, state_->cancel);
  if (!sent) return failed(sent.error());
  if (!*sent) return no_response();
  while (true) {
    auto line = child.read_line(deadline, state_->cancel);
    if (!line) return failed(line.error());
    if (!*line) return no_response();
    const auto event = Json::parse(**line, nullptr, false);
    if (!event.is_object() || event.value("event", "") != "response" ||
        event.value("id", std::uint64_t{0}) != id)
      continue;
    auto body = base64_decode(event.value("body", ""));
    InvocationResponse response;
    response.status = event.value("status", 500);
    response.body = body.value_or("");
    response.content_type =
        event["content_type"].is_string() ? event["content_type"].get<std::string>() : "";
    return response;
  }
}

}  // namespace smpack
