// The Python module `smpack`: what a training script calls as its last step, and what a
// CI job calls to read findings as objects. A thin client of libpack, like the CLI: the
// same library calls, the same error messages, raised as smpack.Error subclasses (one
// per ErrorKind, so a script can tell a usage mistake from a corrupt input).
// Long calls release the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "smpack/archive_scan.h"
#include "smpack/archive_writer.h"
#include "smpack/digest.h"
#include "smpack/lint.h"
#include "smpack/model_tree.h"
#include "smpack/stage.h"
#include "smpack/templates.h"

namespace py = pybind11;

namespace smpack::python {
namespace {

// One Python exception class per ErrorKind; all derive from smpack.Error.
struct ExceptionTypes {
  py::object base, usage, bad_input, io, interrupted, internal;
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
  PyErr_SetString(type.ptr(), error.message.c_str());
  throw py::error_already_set();
}

template <class T>
T value_or_raise(Result<T>&& result) {
  if (!result) raise(result.error());
  return std::move(result).value();
}

void check(Result<void>&& result) {
  if (!result) raise(result.error());
}

// ---- build ---------------------------------------------------------------------------

struct BuildResult {
  std::string archive;
  std::uint64_t archive_bytes = 0;
  std::string archive_sha256;
  std::string content_digest;
  std::size_t members = 0;
  std::uint64_t tar_bytes = 0;
  std::uint64_t gzip_members = 0;
};

// The CLI's rule for the default mtime: SOURCE_DATE_EPOCH when valid, else the library's.
std::int64_t default_mtime() {
  const char* value = std::getenv("SOURCE_DATE_EPOCH");
  if (!value || !*value) return kDefaultMtime;
  char* end = nullptr;
  const long long parsed = std::strtoll(value, &end, 10);
  return *end == '\0' && parsed >= 0 ? parsed : kDefaultMtime;
}

// smpack stage: code into MODEL_DIR/code. Returns {"unchanged", "written", "removed"}.
py::dict stage(const std::filesystem::path& model_dir,
               std::optional<std::filesystem::path> code_dir,
               std::optional<std::filesystem::path> entry_point,
               std::optional<std::filesystem::path> requirements, bool force) {
  SourceSpec spec;
  spec.model_dir = model_dir;
  spec.code_dir = std::move(code_dir);
  spec.entry_point = std::move(entry_point);
  spec.requirements = std::move(requirements);
  Result<StageResult> staged = Error::internal("not run");
  {
    py::gil_scoped_release unlocked;
    staged = stage_code(model_dir, spec,
                        force ? ExistingCode::replace : ExistingCode::refuse_if_different);
  }
  StageResult result = value_or_raise(std::move(staged));
  py::dict out;
  out["unchanged"] = result.unchanged;
  out["written"] = result.written;
  out["removed"] = result.removed;
  return out;
}

BuildResult build(const std::filesystem::path& model_dir, const std::filesystem::path& output,
                  std::optional<std::filesystem::path> code_dir,
                  std::optional<std::filesystem::path> entry_point,
                  std::optional<std::filesystem::path> requirements, int level, unsigned threads,
                  std::optional<std::int64_t> mtime, bool follow_symlinks) {
  if (level < 0 || level > 9)
    raise(Error::usage("level: " + std::to_string(level) + " is not 0-9"));
  SourceSpec spec;
  spec.model_dir = model_dir;
  spec.code_dir = std::move(code_dir);
  spec.entry_point = std::move(entry_point);
  spec.requirements = std::move(requirements);
  spec.symlinks = follow_symlinks ? SymlinkPolicy::follow : SymlinkPolicy::refuse;
  WriteOptions options;
  options.level = level;
  options.threads = threads;
  options.mtime = mtime.value_or(default_mtime());

  Result<WriteResult> written = Error::internal("not run");
  {
    py::gil_scoped_release unlocked;
    auto sources = collect_sources(spec);
    written = sources ? write_archive(*sources, output, options) : std::move(sources).error();
  }
  WriteResult result = value_or_raise(std::move(written));
  return {output.string(),
          result.manifest.archive_bytes,
          result.manifest.archive_sha256,
          result.manifest.content_digest,
          result.manifest.entries.size(),
          result.tar_bytes,
          result.gzip_members};
}

// ---- lint ----------------------------------------------------------------------------

LintOptions lint_options(const std::optional<std::string>& profile,
                         const std::map<std::string, std::string>& env,
                         const std::vector<std::string>& disable) {
  LintOptions options;
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
                const std::vector<std::string>& disable) {
  const LintOptions options = lint_options(profile, env, disable);
  Result<LintReport> report = Error::internal("not run");
  {
    py::gil_scoped_release unlocked;
    auto tree = load_model_tree(path, lint_load_options());
    if (tree) {
      report = lint_tree(*tree, options);
    } else {
      report = std::move(tree).error().with_context(path.string());
    }
  }
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

// ---- info and verify -------------------------------------------------------------------

ArchiveScan scan(const std::filesystem::path& archive, bool check_index) {
  ScanOptions options;
  options.check_index = check_index;
  Result<ArchiveScan> scanned = Error::internal("not run");
  {
    py::gil_scoped_release unlocked;
    scanned = scan_archive(archive, options);
  }
  return value_or_raise(std::move(scanned));
}

py::dict info(const std::filesystem::path& archive) {
  const ArchiveScan facts = scan(archive, /*check_index=*/false);
  const Manifest manifest = facts.manifest();
  py::dict result;
  result["archive"] = archive.string();
  result["container"] = std::string(name_of(facts.container));
  result["writer"] = facts.writer;
  result["writer_evidence"] = facts.writer_evidence;
  result["tar_format"] = facts.tar_format;
  result["file_bytes"] = facts.file_bytes;
  result["tar_bytes"] = facts.tar_bytes;
  result["gzip_members"] = facts.gzip_members;
  result["members"] = facts.entries.size();
  result["smpack_index"] = facts.index.has_value();
  result["content_digest"] = manifest.content_digest;
  return result;
}

Manifest read_manifest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) raise(Error::io(path.string() + ": cannot open the manifest"));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = manifest_from_json(text.str());
  if (!parsed) raise(std::move(parsed).error().with_context(path.string()));
  return std::move(parsed).value();
}

py::dict verify(const std::filesystem::path& archive,
                const std::optional<std::filesystem::path>& manifest_path,
                const std::optional<std::string>& sha256) {
  std::optional<Manifest> expected;
  if (manifest_path) expected = read_manifest(*manifest_path);
  const ArchiveScan facts = scan(archive, /*check_index=*/true);

  std::vector<std::string> problems = facts.index_problems;
  std::string archive_sha;
  if (sha256 || (expected && !expected->archive_sha256.empty())) {
    Result<FileDigests> digests = Error::internal("not run");
    {
      py::gil_scoped_release unlocked;
      digests = digest_file(archive, 0);
    }
    archive_sha = value_or_raise(std::move(digests)).sha256;
    if (sha256 && archive_sha != *sha256) {
      problems.push_back("archive SHA-256 is " + archive_sha + ", expected " + *sha256);
    }
  }
  if (expected) {
    auto differences = compare_with_manifest(facts, *expected, archive_sha);
    problems.insert(problems.end(), differences.begin(), differences.end());
  }
  py::dict result;
  result["archive"] = archive.string();
  result["ok"] = problems.empty();
  result["members"] = facts.entries.size();
  result["gzip_members"] = facts.gzip_members;
  result["smpack_index"] = facts.index.has_value();
  result["problems"] = problems;
  return result;
}

// ---- init ----------------------------------------------------------------------------

std::vector<std::filesystem::path> init(const std::filesystem::path& directory,
                                        const std::string& profile_name, const std::string& variant,
                                        bool force) {
  auto profile = parse_profile(profile_name);
  if (!profile) raise(Error::usage("profile: unknown profile '" + profile_name + "'"));
  const CodeTemplate* code_template = value_or_raise(find_code_template(*profile, variant));
  return value_or_raise(write_code_template(*code_template, directory,
                                            force ? Overwrite::replace : Overwrite::refuse));
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
  module.attr("Error") = types.base;
  module.attr("UsageError") = types.usage;
  module.attr("BadInputError") = types.bad_input;
  module.attr("IoError") = types.io;
  module.attr("InterruptedError") = types.interrupted;
  module.attr("InternalError") = types.internal;
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

  py::class_<BuildResult>(module, "BuildResult", "What build() wrote.")
      .def_readonly("archive", &BuildResult::archive)
      .def_readonly("archive_bytes", &BuildResult::archive_bytes)
      .def_readonly("archive_sha256", &BuildResult::archive_sha256)
      .def_readonly("content_digest", &BuildResult::content_digest)
      .def_readonly("members", &BuildResult::members)
      .def_readonly("tar_bytes", &BuildResult::tar_bytes)
      .def_readonly("gzip_members", &BuildResult::gzip_members)
      .def("__repr__", [](const BuildResult& r) {
        return "<BuildResult " + r.archive + " " + std::to_string(r.members) + " members sha256 " +
               r.archive_sha256 + ">";
      });

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

  module.def("build", &build, arg("model_dir"), arg("output"), py::kw_only(),
             arg("code_dir") = py::none(), arg("entry_point") = py::none(),
             arg("requirements") = py::none(), arg("level") = kDefaultLevel, arg("threads") = 0u,
             arg("mtime") = py::none(), arg("follow_symlinks") = false,
             "Write a deterministic model.tar.gz from model_dir (weights at its root), with "
             "code_dir as code/. Same as `smpack build`. Returns a BuildResult.");
  module.def(
      "stage", &stage, arg("model_dir"), py::kw_only(), arg("code_dir") = py::none(),
      arg("entry_point") = py::none(), arg("requirements") = py::none(), arg("force") = false,
      "Put the code into model_dir/code (e.g. /opt/ml/model), as `smpack stage` does; an "
      "existing, different code/ is a UsageError unless force. Lint it with lint(model_dir).");
  module.def("lint", &lint, arg("path"), py::kw_only(), arg("profile") = py::none(),
             arg("env") = std::map<std::string, std::string>{},
             arg("disable") = std::vector<std::string>{},
             "Check a model.tar.gz or a model directory against the SageMaker contract. Same "
             "as `smpack lint`; returns a LintReport whose findings are Finding objects.");
  module.def("format_lint", &format_reports, arg("reports"), arg("format") = "text",
             "The text, json or sarif that `smpack lint --format FORMAT` prints for reports.");
  module.def("info", &info, arg("archive"),
             "Summarise an archive: container, writer, sizes, members, content digest (a dict).");
  module.def("verify", &verify, arg("archive"), py::kw_only(), arg("manifest") = py::none(),
             arg("sha256") = py::none(),
             "Check gzip CRCs, the smpack index and optional expected digests. Returns a dict "
             "whose 'ok' is False and 'problems' lists what differs when the check fails.");
  module.def("init", &init, arg("directory"), py::kw_only(), arg("profile"), arg("variant") = "",
             arg("force") = false,
             "Write the profile's inference.py and requirements.txt into directory (same as "
             "`smpack init`). Returns the paths written.");
  module.def("templates", &templates, "The templates init() can write (a list of dicts).");
}
