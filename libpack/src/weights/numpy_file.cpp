#include "weights/numpy_file.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "util/le_bytes.h"
#include "weights/weight_report_builder.h"

namespace smpack {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::uint64_t kMaxHeaderBytes = 1u << 20;
constexpr int kMaxLiteralDepth = 16;

// The subset of Python literals numpy writes in an .npy header.
struct Literal {
  enum class Kind { text, boolean, integer, sequence, other } kind = Kind::other;
  std::string text;
  std::uint64_t integer = 0;
  std::vector<Literal> items;
};

class LiteralParser {
 public:
  explicit LiteralParser(std::string_view text) : text_(text) {}

  // The header dict as key/value pairs; nullopt with error() set if it is not one.
  std::optional<std::vector<std::pair<std::string, Literal>>> dict() {
    std::vector<std::pair<std::string, Literal>> entries;
    if (!expect('{')) return std::nullopt;
    while (!peek('}')) {
      auto key = value(0);
      if (!key || key->kind != Literal::Kind::text) return fail("a dict key is not a string");
      if (!expect(':')) return std::nullopt;
      auto item = value(0);
      if (!item) return std::nullopt;
      entries.emplace_back(key->text, std::move(*item));
      if (!peek(',')) break;
      expect(',');
    }
    if (!expect('}')) return std::nullopt;
    return entries;
  }
  const std::string& error() const { return error_; }

 private:
  std::nullopt_t fail(std::string message) {
    if (error_.empty()) error_ = message + " at header offset " + std::to_string(pos_);
    return std::nullopt;
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool expect(char c) {
    if (peek(c)) {
      ++pos_;
      return true;
    }
    fail(std::string("expected '") + c + "'");
    return false;
  }
  std::optional<Literal> value(int depth) {
    if (depth > kMaxLiteralDepth) return fail("nesting too deep");
    skip_space();
    if (pos_ >= text_.size()) return fail("unexpected end");
    char c = text_[pos_];
    Literal out;
    if (c == '\'' || c == '"') {
      std::size_t end = text_.find(c, pos_ + 1);
      if (end == std::string_view::npos) return fail("unterminated string");
      out.kind = Literal::Kind::text;
      out.text = text_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return out;
    }
    if (c == '(' || c == '[') {
      char close = c == '(' ? ')' : ']';
      ++pos_;
      out.kind = Literal::Kind::sequence;
      while (!peek(close)) {
        auto item = value(depth + 1);
        if (!item) return std::nullopt;
        out.items.push_back(std::move(*item));
        if (!peek(',')) break;
        ++pos_;
      }
      if (!expect(close)) return std::nullopt;
      return out;
    }
    std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    std::string_view word = text_.substr(start, pos_ - start);
    if (word == "True" || word == "False") {
      out.kind = Literal::Kind::boolean;
      out.integer = word == "True";
      return out;
    }
    if (!word.empty() &&
        std::all_of(word.begin(), word.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      out.kind = Literal::Kind::integer;
      for (char d : word) {
        if (out.integer > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) {
          return fail("integer too large");
        }
        out.integer = out.integer * 10 + static_cast<std::uint64_t>(d - '0');
      }
      return out;
    }
    return fail("unexpected '" + std::string(1, c) + "'");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
};

struct NumpyDtype {
  std::string name;
  std::uint64_t item_size = 0;  // 0: unknown
  bool object = false;
};

// Whether numpy.dtype(descr), which numpy.load calls on the header's text, is the object
// type or an array of it: "O", "|O8", "object", "object_", and subarrays ("(2,)O", "2O").
bool names_object(std::string_view descr) {
  auto drop_byte_order = [&] {
    while (!descr.empty() &&
           std::string_view("<>|= ").find(descr.front()) != std::string_view::npos)
      descr.remove_prefix(1);
  };
  drop_byte_order();
  if (descr.starts_with('(')) {
    const auto close = descr.find(')');
    descr.remove_prefix(close == std::string_view::npos ? descr.size() : close + 1);
  }
  while (!descr.empty() && descr.front() >= '0' && descr.front() <= '9') descr.remove_prefix(1);
  drop_byte_order();
  return descr.starts_with('O') || descr == "object" || descr == "object_";
}

NumpyDtype dtype_from_descr(std::string_view descr) {
  if (names_object(descr)) return {"object", 8, true};
  if (!descr.empty() && std::string_view("<>|=").find(descr.front()) != std::string_view::npos) {
    descr.remove_prefix(1);
  }
  if (descr.empty()) return {"", 0, false};
  char kind = descr.front();
  std::string_view digits = descr.substr(
      1, descr.find('[') == std::string_view::npos ? std::string_view::npos : descr.find('[') - 1);
  std::uint64_t size = 0;
  for (char d : digits) {
    if (d < '0' || d > '9' || size > 1'000'000'000) return {std::string(descr), 0, false};
    size = size * 10 + static_cast<std::uint64_t>(d - '0');
  }
  switch (kind) {
    case 'b':
      return {"bool", size, false};
    case 'i':
      return {"int" + std::to_string(size * 8), size, false};
    case 'u':
      return {"uint" + std::to_string(size * 8), size, false};
    case 'f':
      return {"float" + std::to_string(size * 8), size, false};
    case 'c':
      return {"complex" + std::to_string(size * 8), size, false};
    case 'U':
      return {std::string(descr), size * 4, false};
    case 'M':
    case 'm':
    case 'S':
    case 'V':
    case 'a':
      return {std::string(descr), size, false};
    default:
      return {std::string(descr), 0, false};
  }
}

// A structured dtype: [('name', '<f4'), ('obj', '|O'), ...]; it needs pickling as
// soon as one field is an object.
bool structured_has_object(const Literal& literal) {
  if (literal.kind == Literal::Kind::text) return dtype_from_descr(literal.text).object;
  return std::any_of(literal.items.begin(), literal.items.end(), structured_has_object);
}

}  // namespace

bool looks_like_npy(std::span<const std::byte> head) {
  return head.size() >= kMagic.size() &&
         std::string_view(reinterpret_cast<const char*>(head.data()), kMagic.size()) == kMagic;
}

bool is_npz(const ZipDirectory& directory) {
  return !directory.entries.empty() &&
         std::all_of(directory.entries.begin(), directory.entries.end(),
                     [](const ZipEntry& entry) { return entry.name.ends_with(".npy"); });
}

Result<void> inspect_npy(const ByteSource& source, std::string_view array_name,
                         const WeightScanLimits& limits, WeightFileReport& report) {
  // Inside an .npz the array is named after the member; a lone .npy is the member.
  std::string where = array_name == report.member ? "" : "array " + std::string(array_name) + ": ";
  auto malformed = [&](const std::string& message) -> Result<void> {
    add_problem(report, WeightProblemKind::numpy_malformed, where + message);
    return {};
  };
  auto preamble = read_held(source, 0, 12, 12);
  if (!preamble) return std::move(preamble).error();
  const std::vector<std::byte>& bytes = preamble->bytes;
  if (bytes.size() < 10 || !looks_like_npy(bytes)) {
    if (source.size() >= 10 && preamble->cut && bytes.size() < 10) {
      add_problem(report, WeightProblemKind::not_available,
                  where + "the .npy preamble is not available");
      return {};
    }
    return malformed("not an .npy file (no \\x93NUMPY preamble)");
  }
  auto major = static_cast<unsigned>(bytes[6]);
  if (major < 1 || major > 3) return malformed("unknown .npy version " + std::to_string(major));
  std::size_t length_width = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + length_width) return malformed("the header length is cut off");
  const std::uint64_t header_length = load_le(std::span(bytes).subspan(8), length_width);
  std::uint64_t data_offset = 8 + length_width + header_length;
  if (header_length > kMaxHeaderBytes || data_offset > source.size()) {
    return malformed("a header of " + std::to_string(header_length) + " bytes runs past the file");
  }
  auto header = read_held(source, 8 + length_width, header_length, header_length);
  if (!header) return std::move(header).error();
  if (header->cut) {
    add_problem(report, WeightProblemKind::not_available,
                where + "the .npy header is not available");
    return {};
  }
  std::string_view text(reinterpret_cast<const char*>(header->bytes.data()), header->bytes.size());
  LiteralParser parser(text);
  auto entries = parser.dict();
  if (!entries) return malformed("the header is not a Python dict literal: " + parser.error());
  const Literal* descr = nullptr;
  const Literal* shape = nullptr;
  for (const auto& [key, value] : *entries) {
    if (key == "descr") descr = &value;
    if (key == "shape") shape = &value;
  }
  if (descr == nullptr || shape == nullptr || shape->kind != Literal::Kind::sequence) {
    return malformed("the header lacks 'descr' or a 'shape' tuple");
  }
  NumpyDtype dtype = descr->kind == Literal::Kind::text
                         ? dtype_from_descr(descr->text)
                         : NumpyDtype{"structured", 0, structured_has_object(*descr)};
  TensorInfo tensor{std::string(array_name), dtype.name, {}, dtype.item_size};
  for (const Literal& dim : shape->items) {
    if (dim.kind != Literal::Kind::integer) return malformed("a shape entry is not an integer");
    tensor.shape.push_back(dim.integer);
    tensor.bytes =
        dim.integer != 0 && tensor.bytes > std::numeric_limits<std::uint64_t>::max() / dim.integer
            ? std::numeric_limits<std::uint64_t>::max()
            : tensor.bytes * dim.integer;
  }
  if (dtype.object) {
    // np.load(allow_pickle=True) unpickles everything after the header.
    auto analysis = analyze_pickle_in(source, data_offset, source.size() - data_offset,
                                      where + "object array pickle", limits, report);
    return analysis ? Result<void>() : std::move(analysis).error();
  }
  std::uint64_t data_bytes = source.size() - data_offset;
  if (dtype.item_size != 0 && data_bytes != tensor.bytes) {
    return malformed(data_bytes < tensor.bytes
                         ? "the array needs " + std::to_string(tensor.bytes) +
                               " data bytes but the file has " + std::to_string(data_bytes)
                         : std::to_string(data_bytes - tensor.bytes) +
                               " trailing bytes after the array data");
  }
  report.tensors.push_back(std::move(tensor));
  report.tensor_bytes = total_tensor_bytes(report.tensors);
  return {};
}

Result<void> inspect_npz(const ByteSource& source, const ZipDirectory& directory,
                         const WeightScanLimits& limits, WeightFileReport& report) {
  std::vector<const ZipEntry*> read_already;
  for (const ZipEntry& entry : directory.entries) {
    if (!entry.located) continue;
    std::string array_name = entry.name.substr(0, entry.name.size() - 4);
    if (entry.method == 0) {
      SliceByteSource member(source, entry.data_offset, entry.compressed_size);
      if (auto inspected = inspect_npy(member, array_name, limits, report); !inspected) {
        return inspected;
      }
      continue;
    }
    auto data = read_zip_member(source, entry, report.member, limits.max_pickle_bytes);
    if (!data) return std::move(data).error();
    read_already.push_back(&entry);
    add_named_problems(report, std::move(data->problems));
    // What was not read (a cap) is "not available", not missing from the file.
    WindowByteSource member(entry.uncompressed_size, std::move(data->bytes), {});
    if (auto inspected = inspect_npy(member, array_name, limits, report); !inspected) {
      return inspected;
    }
  }
  return check_zip_crcs(source, directory, read_already, limits, report);
}

}  // namespace smpack
