// The Python module `smpack`: what a training script calls as its last step, and what a
// CI job calls to read findings as objects. A thin client of libpack, like the CLI: the
// same library calls, the same error messages, raised as smpack.Error subclasses (one
// per ErrorKind, so a script can tell a usage mistake from a corrupt input).
// Long calls release the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>

#include "smpack/add_code.h"
#include "smpack/artifact.h"
#include "smpack/artifact_digest.h"
#include "smpack/build.h"
#include "smpack/describe.h"
#include "smpack/diff.h"
#include "smpack/extract.h"
#include "smpack/lint.h"
#include "smpack/repack.h"
#include "smpack/s3.h"
#include "smpack/signing.h"
#include "smpack/stage.h"
#include "smpack/templates.h"
#include "smpack/verify.h"

namespace py = pybind11;

namespace smpack::python {
namespace {

// One Python exception class per ErrorKind; all derive from smpack.Error.
struct ExceptionTypes {
  py::object base, usage, bad_input, io, interrupted, internal, lint;
};

ExceptionTypes& exception_types() {
  static ExceptionTypes types;
  return types;
}

[[noreturn]] void raise(const Error& error) {
  const auto& types = exception_types();
  py::object type = types.internal;
  switch (error.kind) {
    case ErrorKind::usage:
      type = types.usage;
      break;
    case ErrorKind::bad_input:
      type = types.bad_input;
      break;
    case ErrorKind::io:
      type = types.io;
      break;
    case ErrorKind::interrupted:
      type = types.interrupted;
      break;
    case ErrorKind::internal:
      break;
  }
  std::string message = error.message;
  if (error.hint) {
    std::string keyword = error.hint->option;
    std::replace(keyword.begin(), keyword.end(), '-', '_');
    message += "; use " + keyword + "= " + error.hint->action;
  }
  PyErr_SetString(type.ptr(), message.c_str());
  throw py::error_already_set();
}

// The library's JSON form of a report, as Python objects: the same fields as the CLI's
// --json, by construction.
py::dict json_to_dict(const std::string& json) {
  return py::module_::import("json").attr("loads")(json);
}

template <class T>
T value_or_raise(Result<T>&& result) {
  if (!result) raise(result.error());
  return std::move(result).value();
}

void check(Result<void>&& result) {
  if (!result) raise(result.error());
}

// Runs a long library call off the GIL, on a worker thread, while this thread watches for
// Ctrl-C every 50 ms: a KeyboardInterrupt cancels the call through its token, waits for
// its cleanup (a temporary file removed, a tail restored), then propagates.
template <class Call>
auto run_cancellable(Call call) {
  CancelToken token;
  auto future = std::async(std::launch::async, [&] { return call(&token); });
  for (;;) {
    {
      py::gil_scoped_release unlocked;
      if (future.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready) break;
    }
    if (PyErr_CheckSignals() != 0) {
      token.cancel();
      {
        py::gil_scoped_release unlocked;
        future.wait();
      }
      throw py::error_already_set();
    }
  }
  return future.get();
}

// ---- build and stage -------------------------------------------------------------------

// The lint gate refused: LintError carries the report, like the CLI's findings on stderr.
[[noreturn]] void raise_refused(const LintReport& report) {
  py::object error = exception_types().lint(
      report.target + ": lint found errors; nothing was written (lint=False to write anyway)");
  error.attr("report") = py::cast(report);
  PyErr_SetObject(exception_types().lint.ptr(), error.ptr());
  throw py::error_already_set();
}

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

SourceSpec code_spec(const std::filesystem::path& model_dir,
                     std::optional<std::filesystem::path> code_dir,
                     std::optional<std::filesystem::path> entry_point,
                     std::optional<std::filesystem::path> requirements, bool follow_symlinks) {
  SourceSpec spec;
  spec.model_dir = model_dir;
  spec.code_dir = std::move(code_dir);
  spec.entry_point = std::move(entry_point);
  spec.requirements = std::move(requirements);
  spec.symlinks = follow_symlinks ? SymlinkPolicy::follow : SymlinkPolicy::refuse;
  return spec;
}

// smpack stage: code into MODEL_DIR/code. Returns {"unchanged", "written", "removed",
// "deploy_call"}.
py::dict stage(const std::filesystem::path& model_dir,
               std::optional<std::filesystem::path> code_dir,
               std::optional<std::filesystem::path> entry_point,
               std::optional<std::filesystem::path> requirements, bool force, bool lint,
               const std::string& sdk) {
  const SourceSpec spec = code_spec(model_dir, std::move(code_dir), std::move(entry_point),
                                    std::move(requirements), false);
  StageOptions options;
  options.existing = force ? ExistingCode::replace : ExistingCode::refuse_if_different;
  options.lint = lint;
  options.sdk = value_or_raise(parse_sdk_version(sdk));
  Result<StageResult> staged = run_cancellable([&](const CancelToken* cancel) {
    options.cancel = cancel;
    return stage_code(model_dir, spec, options);
  });
  StageResult result = value_or_raise(std::move(staged));
  if (result.refused) raise_refused(*result.refused);
  return json_to_dict(stage_json(model_dir.string(), result));
}

// The S3 client for `locations` when one of them is an s3:// URL, else nullptr. It is
// made with os.environ as it is at the call, kept while the AWS variables stay the same,
// and made again when they change.
Result<const S3Client*> s3_for(std::initializer_list<const std::filesystem::path*> locations) {
  const bool any = std::any_of(locations.begin(), locations.end(), [](const auto* location) {
    return location && is_s3_url(location->native());
  });
  if (!any) return static_cast<const S3Client*>(nullptr);
  static std::optional<S3Client> client;
  static AwsEnvironment connected_with;
  AwsEnvironment environment = AwsEnvironment::from_process();
  if (!client || environment.variables != connected_with.variables) {
    auto connected = S3Client::connect(environment);
    if (!connected) return std::move(connected).error();
    client = std::move(*connected);
    connected_with = std::move(environment);
  }
  return static_cast<const S3Client*>(&*client);
}

py::dict build(const std::filesystem::path& model_dir, const std::filesystem::path& output,
               std::optional<std::filesystem::path> code_dir,
               std::optional<std::filesystem::path> entry_point,
               std::optional<std::filesystem::path> requirements, int level, unsigned threads,
               std::optional<std::int64_t> mtime, bool follow_symlinks, bool lint,
               bool archive_sha256, bool fsync) {
  if (level < 0 || level > 9)
    raise(Error::usage("level: " + std::to_string(level) + " is not 0-9"));
  BuildOptions options;
  options.write.level = level;
  options.write.threads = threads;
  options.write.archive_sha256 = archive_sha256;
  options.write.durable = fsync;
  options.write.mtime = value_or_raise(
      resolve_mtime(mtime ? std::optional<std::string>(std::to_string(*mtime)) : std::nullopt,
                    environment("SOURCE_DATE_EPOCH")));
  options.lint = lint;
  options.s3 = value_or_raise(s3_for({&output}));
  const SourceSpec spec = code_spec(model_dir, std::move(code_dir), std::move(entry_point),
                                    std::move(requirements), follow_symlinks);
  Result<BuildReport> built = run_cancellable([&](const CancelToken* cancel) {
    options.write.cancel = cancel;
    return build_archive(spec, output, options);
  });
  BuildReport report = value_or_raise(std::move(built));
  if (report.refused) raise_refused(*report.refused);
  return json_to_dict(build_json(report));
}

// ---- lint ----------------------------------------------------------------------------

// A local path or an s3:// URL.
Result<Artifact> open_location(const std::filesystem::path& path) {
  auto s3 = s3_for({&path});
  if (!s3) return std::move(s3).error();
  return Artifact::open(path, {}, *s3);
}

LintOptions lint_options(const std::optional<std::string>& profile,
                         const std::map<std::string, std::string>& env,
                         const std::vector<std::string>& disable, const std::string& sdk) {
  LintOptions options;
  options.sdk = value_or_raise(parse_sdk_version(sdk));
  if (profile) {
    options.profile = parse_profile(*profile);
    if (!options.profile) raise(Error::usage("profile: unknown profile '" + *profile + "'"));
  }
  options.env.insert(env.begin(), env.end());
  options.disabled.insert(disable.begin(), disable.end());
  check(validate_rule_ids(options.disabled));
  return options;
}

LintReport lint(const std::filesystem::path& path, const std::optional<std::string>& profile,
                const std::map<std::string, std::string>& env,
                const std::vector<std::string>& disable, const std::string& sdk) {
  const LintOptions options = lint_options(profile, env, disable, sdk);
  Result<LintReport> report = run_cancellable([&](const CancelToken* cancel) -> Result<LintReport> {
    auto artifact = open_location(path);
    if (!artifact && artifact.error().kind == ErrorKind::bad_input)
      return unreadable_input_report(path.string(), artifact.error());
    if (!artifact) return std::move(artifact).error();
    return lint_artifact(*artifact, options, cancel);
  });
  return value_or_raise(std::move(report));
}

Severity severity_named(const std::string& name) {
  auto severity = parse_severity(name);
  if (!severity) raise(Error::usage("severity: '" + name + "' is not error, warning or info"));
  return *severity;
}

std::string format_reports(const std::vector<LintReport>& reports, const std::string& format) {
  if (format == "text") return format_lint_text(reports);
  if (format == "json") return format_lint_json(reports);
  if (format == "sarif") return format_lint_sarif(reports, SMPACK_VERSION);
  raise(Error::usage("format: '" + format + "' is not text, json or sarif"));
}

// ---- info, verify, digest, diff, ls, extract -------------------------------------------

Artifact open_artifact(const std::filesystem::path& path) {
  return value_or_raise(open_location(path));
}

py::dict info(const std::filesystem::path& path, const std::string& sdk) {
  const SdkVersion version = value_or_raise(parse_sdk_version(sdk));
  const Artifact artifact = open_artifact(path);
  Result<ArtifactDescription> described = run_cancellable(
      [&](const CancelToken* cancel) { return describe_artifact(artifact, version, cancel); });
  return json_to_dict(describe_json(value_or_raise(std::move(described))));
}

py::dict digest(const std::filesystem::path& path, std::uint64_t s3_part_size) {
  const Artifact artifact = open_artifact(path);
  Result<ArtifactDigest> digested = run_cancellable(
      [&](const CancelToken* cancel) { return digest_artifact(artifact, s3_part_size, cancel); });
  return json_to_dict(digest_json(value_or_raise(std::move(digested))));
}

py::dict diff(const std::filesystem::path& before, const std::filesystem::path& after) {
  const Artifact old_artifact = open_artifact(before);
  const Artifact new_artifact = open_artifact(after);
  Result<ManifestDiff> compared = run_cancellable([&](const CancelToken* cancel) {
    return diff_artifacts(old_artifact, new_artifact, cancel);
  });
  return json_to_dict(diff_json(value_or_raise(std::move(compared))));
}

py::list ls(const std::filesystem::path& path) {
  const Artifact artifact = open_artifact(path);
  VisitOptions options;
  options.keep_content = nullptr;
  Result<ModelTree> tree = run_cancellable([&](const CancelToken* cancel) {
    options.cancel = cancel;
    return artifact.visit(options);
  });
  return py::module_::import("json").attr("loads")(
      members_json(value_or_raise(std::move(tree)).members));
}

py::dict extract(const std::filesystem::path& path, const std::filesystem::path& destination,
                 bool skip_unsafe, bool overwrite) {
  const Artifact artifact = open_artifact(path);
  ExtractOptions options;
  options.unsafe = skip_unsafe ? UnsafeMemberPolicy::skip : UnsafeMemberPolicy::refuse;
  options.overwrite = overwrite;
  Result<ExtractReport> extracted = run_cancellable([&](const CancelToken* cancel) {
    options.cancel = cancel;
    return extract_archive(artifact, destination, options);
  });
  return json_to_dict(
      extract_json(path.string(), destination.string(), value_or_raise(std::move(extracted))));
}

py::dict add_code_to(const std::filesystem::path& archive,
                     std::optional<std::filesystem::path> output,
                     std::optional<std::filesystem::path> code_dir,
                     std::optional<std::filesystem::path> entry_point,
                     std::optional<std::filesystem::path> requirements, bool in_place, int level,
                     bool lint) {
  if (in_place == output.has_value())
    raise(Error::usage("give exactly one of output and in_place=True"));
  AddCodeOptions options;
  options.write.level = level;
  options.write.mtime =
      value_or_raise(resolve_mtime(std::nullopt, environment("SOURCE_DATE_EPOCH")));
  options.lint = lint;
  options.s3 = value_or_raise(s3_for({&archive, output ? &*output : nullptr}));
  const SourceSpec spec =
      code_spec({}, std::move(code_dir), std::move(entry_point), std::move(requirements), false);
  Result<AddCodeResult> added = run_cancellable([&](const CancelToken* cancel) {
    options.write.cancel = cancel;
    return add_code(archive, spec, output, options);
  });
  AddCodeResult result = value_or_raise(std::move(added));
  if (result.refused) raise_refused(*result.refused);
  return json_to_dict(add_code_json(output.value_or(archive).string(), result));
}

// A signature file, local (the Python module writes and reads signatures on disk).
std::string read_signature_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) raise(Error::usage(path.string() + ": cannot read the signature"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

py::dict sign(const std::filesystem::path& path, const std::filesystem::path& key_path,
              const std::optional<std::filesystem::path>& output) {
  const SigningKey key = value_or_raise(SigningKey::from_pem_file(key_path));
  const Artifact artifact = value_or_raise(open_location(path));
  const std::string signature = output ? output->string() : default_signature_path(path.string());
  Result<std::string> bundle = run_cancellable([&](const CancelToken* cancel) {
    SignOptions options;
    options.cancel = cancel;
    return sign_artifact(artifact, key, options);
  });
  const std::string text = value_or_raise(std::move(bundle));
  std::ofstream out(signature, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) raise(Error::io(signature + ": cannot write the signature"));
  py::dict result;
  result["artifact"] = path.string();
  result["signature"] = signature;
  result["model_name"] = model_name_of(path.string());
  result["key_hint"] = key.public_key_hint();
  return result;
}

py::dict verify(const std::filesystem::path& path,
                const std::optional<std::filesystem::path>& manifest_path,
                const std::optional<std::string>& sha256,
                const std::optional<std::filesystem::path>& signature,
                const std::optional<std::filesystem::path>& public_key) {
  if (signature.has_value() != public_key.has_value())
    raise(Error::usage("signature and public_key go together"));
  if (signature) {
    const PublicKey key = value_or_raise(PublicKey::from_pem_file(*public_key));
    const std::string bundle = read_signature_file(*signature);
    const Artifact artifact = value_or_raise(open_location(path));
    Result<SignatureCheck> checked = run_cancellable(
        [&](const CancelToken* cancel) { return verify_signature(artifact, bundle, key, cancel); });
    return json_to_dict(signature_check_json(value_or_raise(std::move(checked))));
  }
  VerifyOptions options;
  if (manifest_path) options.expected = value_or_raise(read_manifest_file(*manifest_path));
  options.sha256 = sha256;
  const Artifact artifact = open_artifact(path);
  Result<VerifyReport> verified = run_cancellable([&](const CancelToken* cancel) {
    options.cancel = cancel;
    return verify_artifact(artifact, options);
  });
  return json_to_dict(verify_json(value_or_raise(std::move(verified))));
}

// ---- init ----------------------------------------------------------------------------

py::dict init(const std::filesystem::path& directory, const std::string& profile_name,
              const std::string& variant, bool force) {
  auto profile = parse_profile(profile_name);
  if (!profile) raise(Error::usage("profile: unknown profile '" + profile_name + "'"));
  const CodeTemplate* code_template = value_or_raise(find_code_template(*profile, variant));
  auto written = value_or_raise(write_code_template(
      *code_template, directory, force ? Overwrite::replace : Overwrite::refuse));
  return json_to_dict(init_json(*code_template, written));
}

// ---- repack-check --------------------------------------------------------------------

py::dict repack_check(const std::filesystem::path& path, const std::string& framework,
                      const std::string& framework_version, const std::string& entry_point,
                      const std::string& source_dir, const std::vector<std::string>& dependencies,
                      bool network_isolation, const std::string& sdk) {
  RepackQuery query;
  query.sdk = value_or_raise(parse_sdk_version(sdk));
  query.framework = value_or_raise(parse_framework(framework));
  query.framework_version = framework_version;
  query.entry_point = entry_point;
  query.source_dir = source_dir;
  query.dependencies = dependencies;
  query.network_isolation = network_isolation;
  value_or_raise(predict_repack(query, nullptr));  // a malformed version, before any I/O
  const Artifact artifact = open_artifact(path);
  VisitOptions options;
  options.keep_content = nullptr;
  const ModelTree tree = value_or_raise(artifact.visit(options));
  query.uncompressed_model_data = artifact.kind() == ArtifactKind::s3_prefix;
  return json_to_dict(
      repack_json(path.string(), query, value_or_raise(predict_repack(query, &tree))));
}

py::list templates() {
  py::list result;
  for (const auto& code_template : code_templates()) {
    py::dict entry;
    entry["name"] = std::string(code_template.name);
    entry["profile"] = std::string(name_of(code_template.profile));
    entry["variant"] = std::string(code_template.variant);
    entry["summary"] = std::string(code_template.summary);
    result.append(entry);
  }
  return result;
}

void define_exceptions(py::module_& module) {
  auto& types = exception_types();
  types.base = py::reinterpret_borrow<py::object>(PyErr_NewExceptionWithDoc(
      "smpack.Error", "Any error smpack reports.", PyExc_Exception, nullptr));
  auto derived = [&](const char* qualified_name, const char* doc) {
    return py::reinterpret_steal<py::object>(
        PyErr_NewExceptionWithDoc(qualified_name, doc, types.base.ptr(), nullptr));
  };
  types.usage = derived("smpack.UsageError", "A bad argument (the CLI's exit code 2).");
  types.bad_input = derived("smpack.BadInputError",
                            "Unreadable, corrupt or unsafe input (the CLI's exit code 3).");
  types.io = derived("smpack.IoError", "The operating system refused a read or write (exit 3).");
  types.interrupted = derived("smpack.InterruptedError", "The call was cancelled (exit 130).");
  types.internal = derived("smpack.InternalError", "A bug in smpack (exit 4).");
  types.lint = derived("smpack.LintError",
                       "The lint gate refused to write (the CLI's exit code 1); .report is the "
                       "LintReport.");
  module.attr("Error") = types.base;
  module.attr("UsageError") = types.usage;
  module.attr("BadInputError") = types.bad_input;
  module.attr("IoError") = types.io;
  module.attr("InterruptedError") = types.interrupted;
  module.attr("InternalError") = types.internal;
  module.attr("LintError") = types.lint;
}

}  // namespace
}  // namespace smpack::python

PYBIND11_MODULE(smpack, module) {
  using namespace smpack;
  using namespace smpack::python;
  namespace py = pybind11;
  using py::arg;

  module.doc() = "Build, lint and inspect SageMaker model artifacts (model.tar.gz).";
  module.attr("__version__") = SMPACK_VERSION;
  define_exceptions(module);

  py::class_<Finding>(module, "Finding", "One lint finding (docs/rules.md has every rule).")
      .def_readonly("rule_id", &Finding::rule_id)
      .def_property_readonly("severity",
                             [](const Finding& f) { return std::string(name_of(f.severity)); })
      .def_readonly("member", &Finding::member)
      .def_readonly("line", &Finding::line)
      .def_readonly("column", &Finding::column)
      .def_readonly("message", &Finding::message)
      .def("__repr__", [](const Finding& f) {
        return "<Finding " + std::string(name_of(f.severity)) + " " + f.rule_id + " " + f.member +
               (f.line ? ":" + std::to_string(f.line) : "") + ": " + f.message + ">";
      });

  py::class_<LintReport>(module, "LintReport", "What lint() found in one archive or directory.")
      .def_readonly("target", &LintReport::target)
      .def_property_readonly("profile",
                             [](const LintReport& r) { return std::string(name_of(r.profile)); })
      .def_readonly("profile_given", &LintReport::profile_given)
      .def_readonly("profile_reason", &LintReport::profile_reason)
      .def_readonly("findings", &LintReport::findings)
      .def_readonly("deploy_ready", &LintReport::deploy_ready)
      .def_readonly("deploy_call", &LintReport::deploy_call)
      .def_readonly("unsafe_input", &LintReport::unsafe_input)
      .def(
          "has_findings_at",
          [](const LintReport& r, const std::string& severity) {
            return r.has_findings_at(severity_named(severity));
          },
          arg("severity"), "Whether any finding is at or above 'error', 'warning' or 'info'.")
      .def("__repr__", [](const LintReport& r) {
        return "<LintReport " + r.target + " profile " + std::string(name_of(r.profile)) + ", " +
               std::to_string(r.findings.size()) + " findings>";
      });

  // Every operation returns the dict its CLI command prints with --json (docs/cli.md).
  module.def("build", &build, arg("model_dir"), arg("output"), py::kw_only(),
             arg("code_dir") = py::none(), arg("entry_point") = py::none(),
             arg("requirements") = py::none(), arg("level") = kDefaultLevel, arg("threads") = 0u,
             arg("mtime") = py::none(), arg("follow_symlinks") = false, arg("lint") = true,
             arg("archive_sha256") = true, arg("fsync") = true,
             "Write a deterministic model.tar.gz from model_dir (weights at its root), with "
             "code_dir as code/. Same as `smpack build`; LintError when the lint gate refuses.");
  module.def("stage", &stage, arg("model_dir"), py::kw_only(), arg("code_dir") = py::none(),
             arg("entry_point") = py::none(), arg("requirements") = py::none(),
             arg("force") = false, arg("lint") = true, arg("sdk") = "v3",
             "Put the code into model_dir/code (e.g. /opt/ml/model), as `smpack stage` does; an "
             "existing, different code/ is a UsageError unless force; LintError when the lint gate "
             "refuses.");
  module.def("add_code", &add_code_to, arg("archive"), arg("output") = py::none(), py::kw_only(),
             arg("code_dir") = py::none(), arg("entry_point") = py::none(),
             arg("requirements") = py::none(), arg("in_place") = false,
             arg("level") = kDefaultLevel, arg("lint") = true,
             "Add or replace code/ in an archive, as `smpack add-code` does.");
  module.def("lint", &lint, arg("path"), py::kw_only(), arg("profile") = py::none(),
             arg("env") = std::map<std::string, std::string>{},
             arg("disable") = std::vector<std::string>{}, arg("sdk") = "v3",
             "Check a model.tar.gz or a model directory against the SageMaker contract. Same "
             "as `smpack lint`; returns a LintReport whose findings are Finding objects.");
  module.def("format_lint", &format_reports, arg("reports"), arg("format") = "text",
             "The text, json or sarif that `smpack lint --format FORMAT` prints for reports.");
  module.def("info", &info, arg("path"), py::kw_only(), arg("sdk") = "v3",
             "Describe an archive or model directory, as `smpack info --json` does.");
  module.def("ls", &ls, arg("path"), "The members, as `smpack ls --json` lists them.");
  module.def("digest", &digest, arg("path"), py::kw_only(), arg("s3_part_size") = 0,
             "SHA-256, content digest and (with s3_part_size) the S3 ETag, as `smpack digest`.");
  module.def("diff", &diff, arg("before"), arg("after"),
             "Member-level differences, as `smpack diff --json`.");
  module.def("extract", &extract, arg("archive"), arg("destination"), py::kw_only(),
             arg("skip_unsafe") = false, arg("overwrite") = false,
             "Extract safely, as `smpack extract`.");
  module.def("verify", &verify, arg("archive"), py::kw_only(), arg("manifest") = py::none(),
             arg("sha256") = py::none(), arg("signature") = py::none(),
             arg("public_key") = py::none(),
             "Check gzip CRCs, the smpack index and optional expected digests; or, with "
             "signature and public_key, a model signing bundle against every file, as "
             "`smpack verify --signature`. Returns a dict whose 'ok' is False and 'problems' "
             "lists what differs when the check fails.");
  module.def("sign", &sign, arg("artifact"), py::kw_only(), arg("key"), arg("output") = py::none(),
             "Sign an archive, directory or s3:// artifact as `smpack sign` (OpenSSF model "
             "signing's format); the signature goes to `output`, by default ARTIFACT.sig.");
  module.def("init", &init, arg("directory"), py::kw_only(), arg("profile"), arg("variant") = "",
             arg("force") = false,
             "Write the profile's inference.py and requirements.txt into directory (same as "
             "`smpack init`). Returns {\"template\", \"files\"}.");
  module.def("repack_check", &repack_check, arg("archive"), py::kw_only(),
             arg("framework") = "pytorch", arg("framework_version") = "", arg("entry_point") = "",
             arg("source_dir") = "", arg("dependencies") = std::vector<std::string>{},
             arg("network_isolation") = false, arg("sdk") = "v3",
             "Whether the SDK's deploy call would repack the archive, as `smpack repack-check`.");
  module.def("templates", &templates, "The templates init() can write (a list of dicts).");
}
