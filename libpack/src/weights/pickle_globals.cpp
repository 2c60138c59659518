#include "weights/pickle_globals.h"

#include <algorithm>
#include <array>
#include <string>
#include <unordered_set>
#include <vector>

#include "smpack/pickle_analyzer.h"

namespace smpack {
namespace {

using namespace std::string_view_literals;

struct StorageKind {
  std::string_view prefix;  // "Float" for FloatStorage / FloatTensor
  TorchElementType element;
};

constexpr std::array kStorageKinds = {
    StorageKind{"Float", {"float32", 4}},
    StorageKind{"Double", {"float64", 8}},
    StorageKind{"Half", {"float16", 2}},
    StorageKind{"BFloat16", {"bfloat16", 2}},
    StorageKind{"Long", {"int64", 8}},
    StorageKind{"Int", {"int32", 4}},
    StorageKind{"Short", {"int16", 2}},
    StorageKind{"Char", {"int8", 1}},
    StorageKind{"Byte", {"uint8", 1}},
    StorageKind{"Bool", {"bool", 1}},
    StorageKind{"ComplexFloat", {"complex64", 8}},
    StorageKind{"ComplexDouble", {"complex128", 16}},
    StorageKind{"QInt8", {"qint8", 1}},
    StorageKind{"QUInt8", {"quint8", 1}},
    StorageKind{"QInt32", {"qint32", 4}},
    StorageKind{"QUInt4x2", {"quint4x2", 1}},
    StorageKind{"QUInt2x4", {"quint2x4", 1}},
};

// torch.<name> dtype objects and their element sizes.
constexpr std::array kDtypes = {
    TorchElementType{"float32", 4},
    TorchElementType{"float", 4},
    TorchElementType{"float64", 8},
    TorchElementType{"double", 8},
    TorchElementType{"float16", 2},
    TorchElementType{"half", 2},
    TorchElementType{"bfloat16", 2},
    TorchElementType{"int64", 8},
    TorchElementType{"long", 8},
    TorchElementType{"int32", 4},
    TorchElementType{"int", 4},
    TorchElementType{"int16", 2},
    TorchElementType{"short", 2},
    TorchElementType{"int8", 1},
    TorchElementType{"uint8", 1},
    TorchElementType{"bool", 1},
    TorchElementType{"complex32", 4},
    TorchElementType{"complex64", 8},
    TorchElementType{"complex128", 16},
    TorchElementType{"qint8", 1},
    TorchElementType{"quint8", 1},
    TorchElementType{"qint32", 4},
    TorchElementType{"quint4x2", 1},
    TorchElementType{"quint2x4", 1},
    TorchElementType{"float8_e4m3fn", 1},
    TorchElementType{"float8_e5m2", 1},
    TorchElementType{"float8_e4m3fnuz", 1},
    TorchElementType{"float8_e5m2fnuz", 1},
    TorchElementType{"uint16", 2},
    TorchElementType{"uint32", 4},
    TorchElementType{"uint64", 8},
};

constexpr std::array kTensorClassPrefixes = {"Float"sv, "Double"sv, "Half"sv,  "BFloat16"sv,
                                             "Long"sv,  "Int"sv,    "Short"sv, "Char"sv,
                                             "Byte"sv,  "Bool"sv};

// PyTorch's weights_only allowlist (torch/_weights_only_unpickler.py, 1.13 to 2.x),
// compared like torch does: on the string "module.name".
const std::unordered_set<std::string>& weights_only_allowlist() {
  static const std::unordered_set<std::string> allowlist = [] {
    std::unordered_set<std::string> names = {
        "collections.OrderedDict",
        "collections.Counter",
        "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout",
        "torch.Size",
        "torch.Tensor",
        "torch.device",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_sparse_tensor",
        "torch._utils._rebuild_sparse_csr_tensor",
        "torch._utils._rebuild_meta_tensor_no_storage",
        "torch._utils._rebuild_wrapper_subclass",
        "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor",
        "torch._tensor._rebuild_from_type_v2",
        "_codecs.encode",
        "builtins.bytearray",
        "builtins.set",
        "builtins.complex",
        "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage",
        "torch.per_tensor_affine",
        "torch.per_channel_affine",
        "torch.per_tensor_symmetric",
        "torch.per_channel_symmetric",
        "torch.per_channel_affine_float_qparams",
    };
    for (const auto& dtype : kDtypes) names.insert("torch." + std::string(dtype.dtype));
    for (const auto& kind : kStorageKinds) {
      for (auto module : {"torch."sv, "torch.cuda."sv}) {
        names.insert(std::string(module) + std::string(kind.prefix) + "Storage");
      }
    }
    for (auto prefix : kTensorClassPrefixes) {
      for (auto module : {"torch."sv, "torch.cuda."sv, "torch.sparse."sv, "torch.cuda.sparse."sv}) {
        names.insert(std::string(module) + std::string(prefix) + "Tensor");
      }
    }
    return names;
  }();
  return allowlist;
}

// Modules whose import alone gives a pickle a way to run commands or code, open
// files or sockets, or unpickle again. Matched against the first component, so
// submodules (os.path, subprocess.run, ...) are covered.
constexpr std::array kDangerousModules = {
    "os"sv,
    "posix"sv,
    "nt"sv,
    "sys"sv,
    "subprocess"sv,
    "_posixsubprocess"sv,
    "commands"sv,
    "runpy"sv,
    "socket"sv,
    "_socket"sv,
    "ssl"sv,
    "ctypes"sv,
    "_ctypes"sv,
    "cffi"sv,
    "pickle"sv,
    "_pickle"sv,
    "cPickle"sv,
    "dill"sv,
    "cloudpickle"sv,
    "marshal"sv,
    "shelve"sv,
    "importlib"sv,
    "imp"sv,
    "zipimport"sv,
    "pkgutil"sv,
    "code"sv,
    "codeop"sv,
    "pty"sv,
    "pdb"sv,
    "bdb"sv,
    "timeit"sv,
    "trace"sv,
    "profile"sv,
    "cProfile"sv,
    "shutil"sv,
    "webbrowser"sv,
    "multiprocessing"sv,
    "asyncio"sv,
    "concurrent"sv,
    "threading"sv,
    "_thread"sv,
    "signal"sv,
    "types"sv,
    "urllib"sv,
    "urllib2"sv,
    "http"sv,
    "httplib"sv,
    "ftplib"sv,
    "smtplib"sv,
    "telnetlib"sv,
    "requests"sv,
    "aiohttp"sv,
    "pip"sv,
    "setuptools"sv,
    "distutils"sv,
    "venv"sv,
    "ensurepip"sv,
    "platform"sv,
    "_io"sv,
    "io"sv,
    "tempfile"sv,
    "glob"sv,
    "fcntl"sv,
    "mmap"sv,
    "gc"sv,
    "inspect"sv,
    "linecache"sv,
    "site"sv,
    "sysconfig"sv,
    "builtins"sv,
    "__builtin__"sv,
    "__builtins__"sv,
};

// Names inside builtins that execute, import, open files or reach any attribute.
constexpr std::array kDangerousBuiltins = {
    "eval"sv,         "exec"sv,     "execfile"sv,   "compile"sv,    "open"sv,    "file"sv,
    "getattr"sv,      "setattr"sv,  "delattr"sv,    "__import__"sv, "globals"sv, "locals"sv,
    "vars"sv,         "input"sv,    "breakpoint"sv, "apply"sv,      "reload"sv,  "help"sv,
    "exit"sv,         "quit"sv,     "memoryview"sv, "type"sv,       "object"sv,  "classmethod"sv,
    "staticmethod"sv, "property"sv, "super"sv,
};

// Exact globals outside the modules above that load, fetch or run things.
constexpr std::array kDangerousGlobals = {
    "torch.load"sv,
    "torch.serialization.load"sv,
    "torch.jit.load"sv,
    "torch.hub.load"sv,
    "torch.hub.load_state_dict_from_url"sv,
    "torch.hub.download_url_to_file"sv,
    "torch._C._jit_pass_inline"sv,
    "torch.utils.cpp_extension.load"sv,
    "torch.utils.cpp_extension.load_inline"sv,
    "torch.package.PackageImporter"sv,
    "numpy.load"sv,
    "numpy.lib.npyio.load"sv,
    "numpy.testing._private.utils.runstring"sv,
    "numpy.ctypeslib.load_library"sv,
    "operator.attrgetter"sv,
    "operator.methodcaller"sv,
    "_operator.attrgetter"sv,
    "_operator.methodcaller"sv,
    "joblib.load"sv,
    "yaml.load"sv,
    "yaml.unsafe_load"sv,
    "pandas.read_pickle"sv,
    "keras.models.load_model"sv,
};

// Attribute names that, met inside a dotted name, walk from any object to anything.
constexpr std::array kDangerousComponents = {
    "os"sv,        "sys"sv,  "subprocess"sv, "builtins"sv, "__builtins__"sv,
    "posix"sv,     "nt"sv,   "runpy"sv,      "socket"sv,   "ctypes"sv,
    "importlib"sv, "eval"sv, "exec"sv,       "getattr"sv,  "__import__"sv,
};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::vector<std::string_view> split_dots(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

bool is_dunder(std::string_view part) {
  return part.size() > 4 && part.starts_with("__") && part.ends_with("__");
}

// Python 2 module names that CPython's unpickler maps for protocols < 3
// (Lib/_compat_pickle.py): judged as what they load.
std::string_view python3_module(std::string_view module) {
  if (module == "__builtin__" || module == "exceptions") return "builtins";
  if (module == "commands") return "subprocess";
  if (module == "cPickle") return "pickle";
  if (module == "copy_reg") return "copyreg";
  return module;
}

GlobalJudgement dangerous(std::string reason) {
  return {PickleVerdict::dangerous, "executes code: " + std::move(reason)};
}

}  // namespace

GlobalJudgement judge_global(std::string_view module, std::string_view name) {
  std::string qualified = std::string(module) + "." + std::string(name);
  std::string_view root = split_dots(module).front();
  std::string_view mapped_root = python3_module(root);
  if (mapped_root == "builtins" || mapped_root == "__builtins__") {
    std::string_view first_name = split_dots(name).front();
    if (contains(kDangerousBuiltins, first_name)) {
      return dangerous("builtins." + std::string(first_name) + " runs or reaches arbitrary code");
    }
  } else if (contains(kDangerousModules, root) || contains(kDangerousModules, mapped_root)) {
    return dangerous("module " + std::string(mapped_root) +
                     " can run commands, load code, or touch files and sockets");
  }
  if (contains(kDangerousGlobals, std::string_view(qualified))) {
    return dangerous(qualified + " loads or calls further objects");
  }
  // Protocol 4 resolves "a.b.c" in `name` (and any module attribute) as a chain of
  // getattr calls, so a harmless-looking module can lead anywhere.
  auto module_parts = split_dots(module);
  for (std::size_t i = 1; i < module_parts.size(); ++i) {
    if (contains(kDangerousComponents, module_parts[i])) {
      return dangerous("the module path " + std::string(module) + " passes through " +
                       std::string(module_parts[i]));
    }
  }
  for (std::string_view part : split_dots(name)) {
    if (contains(kDangerousComponents, part) || is_dunder(part)) {
      return dangerous("the dotted name " + std::string(name) + " walks through " +
                       std::string(part));
    }
  }
  if (weights_only_allowlist().contains(qualified)) return {};
  return {PickleVerdict::unknown_code, "outside PyTorch's weights_only allowlist"};
}

PickleVerdict classify_global(std::string_view module, std::string_view name) {
  return judge_global(module, name).verdict;
}

bool is_estimator_global(std::string_view qualified_name) {
  // What joblib.dump / pickle.dump of an sklearn or xgboost model imports: the
  // libraries' classes and numpy's and scipy's array rebuilders, plus the standard
  // library's object reconstruction.
  constexpr std::array kModules = {"sklearn."sv, "xgboost."sv, "numpy."sv,
                                   "scipy."sv,   "joblib."sv,  "collections."sv};
  constexpr std::array kExact = {"copyreg._reconstructor"sv, "builtins.object"sv,
                                 "builtins.set"sv,           "builtins.frozenset"sv,
                                 "builtins.slice"sv,         "builtins.complex"sv,
                                 "builtins.bytearray"sv,     "_codecs.encode"sv};
  // A loader inside those libraries (joblib.load, numpy.load) would read another pickle.
  const std::string_view last = qualified_name.substr(qualified_name.rfind('.') + 1);
  if (last.find("load") != std::string_view::npos) return false;
  return std::any_of(kModules.begin(), kModules.end(),
                     [&](std::string_view m) { return qualified_name.starts_with(m); }) ||
         std::find(kExact.begin(), kExact.end(), qualified_name) != kExact.end();
}

std::optional<TorchElementType> storage_element_type(std::string_view qualified_name) {
  for (auto module : {"torch."sv, "torch.cuda."sv}) {
    if (!qualified_name.starts_with(module)) continue;
    std::string_view rest = qualified_name.substr(module.size());
    if (!rest.ends_with("Storage")) continue;
    rest.remove_suffix(std::string_view("Storage").size());
    for (const auto& kind : kStorageKinds) {
      if (kind.prefix == rest) return kind.element;
    }
  }
  // Untyped storages count bytes; the tensor's dtype comes from _rebuild_tensor_v3.
  if (qualified_name == "torch.storage.UntypedStorage" ||
      qualified_name == "torch.UntypedStorage") {
    return TorchElementType{"uint8", 1};
  }
  return std::nullopt;
}

std::optional<TorchElementType> dtype_element_type(std::string_view qualified_name) {
  if (!qualified_name.starts_with("torch.")) return std::nullopt;
  std::string_view rest = qualified_name.substr(6);
  for (const auto& dtype : kDtypes) {
    if (dtype.dtype == rest) return dtype;
  }
  return std::nullopt;
}

}  // namespace smpack
