#include "smpack/npy_header.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/utf8.h"
#include "util/le_bytes.h"

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
  bool tuple = false;  // a sequence written with ( ), not [ ]
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
  // Whether only whitespace follows what was parsed (ast.literal_eval reads all of it).
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

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
  // A quote, or a string prefix (b, r, u, in either case, and rb/br) and a quote.
  bool starts_string() const {
    std::size_t at = pos_;
    for (int i = 0; i < 2 && at < text_.size() &&
                    std::string_view("bBrRuU").find(text_[at]) != std::string_view::npos;
         ++i) {
      ++at;
    }
    return at < text_.size() && (text_[at] == '\'' || text_[at] == '"');
  }

  // Four hex digits of \uXXXX (or 2 or 8): the code point, or nullopt.
  std::optional<std::uint32_t> hex_escape(std::size_t digits) {
    if (text_.size() - pos_ < digits) return std::nullopt;
    std::uint32_t code = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      const auto d = static_cast<unsigned char>(text_[pos_++]);
      if (!std::isxdigit(d)) return std::nullopt;
      code =
          code * 16 + static_cast<std::uint32_t>(std::isdigit(d) ? d - '0' : (d | 0x20) - 'a' + 10);
    }
    return code;
  }

  // One string literal as ast.literal_eval reads it: the escapes of a Python string
  // (\xhh, \ooo, \uXXXX, \UXXXXXXXX, the one-letter ones; an unknown escape keeps its
  // backslash), none in a raw string. Triple quotes and \N{...} are refused, which refuses
  // the header rather than read it otherwise than numpy does.
  std::optional<std::string> string_literal() {
    bool raw = false;
    while (text_[pos_] != '\'' && text_[pos_] != '"') {
      raw = raw || text_[pos_] == 'r' || text_[pos_] == 'R';
      ++pos_;
    }
    const char quote = text_[pos_++];
    if (text_.substr(pos_, 2) == std::string(2, quote)) return fail("a triple-quoted string");
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      const char c = text_[pos_++];
      if (c != '\\' || pos_ >= text_.size()) {
        out += c;
        continue;
      }
      const char e = text_[pos_++];
      if (raw) {  // a raw string keeps the backslash, which still escapes the quote
        out += c;
        out += e;
        continue;
      }
      constexpr std::string_view kSimple = "\\'\"abfnrtv";
      constexpr std::string_view kSimpleValue = "\\'\"\a\b\f\n\r\t\v";
      if (e == '\n') continue;  // a line continuation
      if (const std::size_t at = kSimple.find(e); at != std::string_view::npos) {
        out += kSimpleValue[at];
      } else if (e == 'x' || e == 'u' || e == 'U') {
        auto code = hex_escape(e == 'x' ? 2 : e == 'u' ? 4 : 8);
        if (!code || *code > 0x10FFFF) return fail(std::string("a bad \\") + e + " escape");
        append_utf8(out, *code);
      } else if (e >= '0' && e <= '7') {
        auto code = static_cast<std::uint32_t>(e - '0');
        for (int i = 0; i < 2 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7';
             ++i) {
          code = code * 8 + static_cast<std::uint32_t>(text_[pos_++] - '0');
        }
        append_utf8(out, code);
      } else if (e == 'N') {
        return fail("a \\N{...} escape");
      } else {
        out += c;
        out += e;
      }
    }
    if (pos_ >= text_.size()) return fail("unterminated string");
    ++pos_;
    return out;
  }

  std::optional<Literal> value(int depth) {
    if (depth > kMaxLiteralDepth) return fail("nesting too deep");
    skip_space();
    if (pos_ >= text_.size()) return fail("unexpected end");
    char c = text_[pos_];
    Literal out;
    if (starts_string()) {
      out.kind = Literal::Kind::text;
      // Adjacent literals are one string, as in Python: '|' 'O'.
      do {
        auto piece = string_literal();
        if (!piece) return std::nullopt;
        out.text += *piece;
      } while ((skip_space(), starts_string()));
      return out;
    }
    if (c == '(' || c == '[') {
      char close = c == '(' ? ')' : ']';
      ++pos_;
      out.kind = Literal::Kind::sequence;
      out.tuple = c == '(';
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

std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

bool looks_like_npy(std::span<const std::byte> head) {
  return head.size() >= kMagic.size() && as_text(head.first(kMagic.size())) == kMagic;
}

Result<std::uint64_t> npy_data_offset(std::span<const std::byte> preamble) {
  if (preamble.size() < 10 || !looks_like_npy(preamble))
    return Error::bad_input("not an .npy file (no \\x93NUMPY preamble)");
  const auto major = static_cast<unsigned>(preamble[6]);
  const auto minor = static_cast<unsigned>(preamble[7]);
  if (major < 1 || major > 3 || minor != 0) {
    return Error::bad_input("unknown .npy version (" + std::to_string(major) + ", " +
                            std::to_string(minor) + "): numpy reads (1, 0), (2, 0) and (3, 0)");
  }
  const std::size_t length_width = major == 1 ? 2 : 4;
  if (preamble.size() < 8 + length_width) return Error::bad_input("the header length is cut off");
  const std::uint64_t header_length = load_le(preamble.subspan(8), length_width);
  if (header_length > kMaxHeaderBytes)
    return Error::bad_input("a header of " + std::to_string(header_length) + " bytes is too long");
  return 8 + length_width + header_length;
}

Result<NpyHeader> parse_npy_header(std::span<const std::byte> bytes) {
  auto data_offset = npy_data_offset(bytes.first(std::min(bytes.size(), kNpyPreambleBytes)));
  if (!data_offset) return std::move(data_offset).error();
  if (*data_offset > bytes.size()) {
    return Error::bad_input("a header of " + std::to_string(*data_offset) +
                            " bytes runs past the file");
  }
  const std::size_t header_start = static_cast<unsigned>(bytes[6]) == 1 ? 10 : 12;
  LiteralParser parser(as_text(bytes.subspan(header_start, *data_offset - header_start)));
  auto entries = parser.dict();
  if (!entries)
    return Error::bad_input("the header is not a Python dict literal: " + parser.error());
  if (!parser.at_end()) return Error::bad_input("text follows the header's dict");
  const Literal* descr = nullptr;
  const Literal* shape = nullptr;
  const Literal* fortran_order = nullptr;
  for (const auto& [key, value] : *entries) {
    if (key == "descr") descr = &value;
    if (key == "shape") shape = &value;
    if (key == "fortran_order") fortran_order = &value;
  }
  // numpy.lib.format._read_array_header: exactly these three keys, a bool, a tuple.
  if (entries->size() != 3 || descr == nullptr || shape == nullptr || fortran_order == nullptr) {
    return Error::bad_input(
        "the header's keys are not exactly 'descr', 'fortran_order' and 'shape'");
  }
  if (shape->kind != Literal::Kind::sequence || !shape->tuple) {
    return Error::bad_input("the header's 'shape' is not a tuple");
  }
  if (fortran_order->kind != Literal::Kind::boolean) {
    return Error::bad_input("the header's 'fortran_order' is not True or False");
  }
  NpyHeader header;
  header.major_version = static_cast<int>(bytes[6]);
  header.data_offset = *data_offset;
  header.fortran_order = fortran_order->integer != 0;
  if (descr->kind == Literal::Kind::text) {
    const NumpyDtype dtype = dtype_from_descr(descr->text);
    header.descr = descr->text;
    header.object = dtype.object;
    header.dtype_name = dtype.name;
    header.item_bytes = dtype.item_size;
  } else {
    header.structured = true;
    header.object = structured_has_object(*descr);
    header.dtype_name = "structured";
  }
  for (const Literal& dim : shape->items) {
    if (dim.kind != Literal::Kind::integer)
      return Error::bad_input("a shape entry is not an integer");
    header.shape.push_back(dim.integer);
  }
  return header;
}

std::optional<std::uint64_t> npy_element_count(const NpyHeader& header) {
  std::uint64_t count = 1;
  for (const std::uint64_t dim : header.shape) {
    if (dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / dim) return std::nullopt;
    count *= dim;
  }
  return count;
}

}  // namespace smpack
