#include "smpack/pickle_analyzer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "smpack/utf8.h"
#include "util/le_bytes.h"
#include "weights/pickle_globals.h"

namespace smpack {
namespace {

using ValueId = std::uint32_t;
constexpr ValueId kNoValue = std::numeric_limits<ValueId>::max();

// Text longer than this is kept cut: names and keys are short, and a pickle full of
// big byte strings (a joblib file) must not be held twice.
constexpr std::size_t kMaxKeptText = 4096;
// A tensor's name (its path in the unpickled object) is cut beyond this many bytes.
constexpr std::size_t kMaxTensorNameBytes = 256;
constexpr std::string_view kCutMark = "\u2026";  // "…"

enum class ValueKind : std::uint8_t {
  none,
  boolean,
  integer,
  big_integer,
  floating,
  text,  // str, and bytes (protocol 2 writes str keys as SHORT_BINSTRING)
  tuple,
  list,
  dict,
  set,
  global,
  object,   // whatever a call (REDUCE, NEWOBJ, INST, OBJ) returns
  storage,  // integer indexes PickleAnalysis::storages
  tensor,   // integer indexes Simulator::tensors_
  opaque,   // persistent objects, extension codes, buffers
};

struct Value {
  ValueKind kind = ValueKind::none;
  std::int64_t integer = 0;
  std::string text;            // text; "module.name" for globals
  bool text_cut = false;       // text was longer than kMaxKeptText and is kept cut
  ValueId callee = kNoValue;   // object: what was called
  ValueId state = kNoValue;    // object: BUILD state
  std::vector<ValueId> items;  // list/tuple/set elements, object args, APPENDs
  std::vector<ValueId> pairs;  // dict entries and SETITEMs, key and value alternating
};

struct Tensor {
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t element_size = 0;
  PickleTensorLayout layout;
};

enum class Opcode : std::uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  FLOAT = 'F',
  INT = 'I',
  BININT = 'J',
  BININT1 = 'K',
  LONG = 'L',
  BININT2 = 'M',
  NONE = 'N',
  PERSID = 'P',
  BINPERSID = 'Q',
  REDUCE = 'R',
  STRING = 'S',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  UNICODE = 'V',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  GET = 'g',
  BINGET = 'h',
  INST = 'i',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  OBJ = 'o',
  PUT = 'p',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  BINFLOAT = 'G',
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  EXT1 = 0x82,
  EXT2 = 0x83,
  EXT4 = 0x84,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
};

struct OpcodeInfo {
  std::string_view name;
  bool weights_only = false;  // in torch's weights_only unpickler
};

std::optional<OpcodeInfo> opcode_info(std::uint8_t byte) {
  switch (static_cast<Opcode>(byte)) {
// clang-format off: one opcode a line (clang-format 14 reflows macro lists differently on every pass)
#define SMPACK_OP(op, allowed) \
  case Opcode::op:             \
    return OpcodeInfo{#op, allowed};
    SMPACK_OP(MARK, true)
    SMPACK_OP(STOP, true)
    SMPACK_OP(POP, false)
    SMPACK_OP(POP_MARK, false)
    SMPACK_OP(DUP, false)
    SMPACK_OP(FLOAT, false)
    SMPACK_OP(INT, false)
    SMPACK_OP(BININT, true)
    SMPACK_OP(BININT1, true)
    SMPACK_OP(LONG, false)
    SMPACK_OP(BININT2, true)
    SMPACK_OP(NONE, true)
    SMPACK_OP(PERSID, false)
    SMPACK_OP(BINPERSID, true)
    SMPACK_OP(REDUCE, true)
    SMPACK_OP(STRING, false)
    SMPACK_OP(BINSTRING, false)
    SMPACK_OP(SHORT_BINSTRING, true)
    SMPACK_OP(UNICODE, false)
    SMPACK_OP(BINUNICODE, true)
    SMPACK_OP(APPEND, true)
    SMPACK_OP(BUILD, true)
    SMPACK_OP(GLOBAL, true)
    SMPACK_OP(DICT, false)
    SMPACK_OP(EMPTY_DICT, true)
    SMPACK_OP(APPENDS, true)
    SMPACK_OP(GET, false)
    SMPACK_OP(BINGET, true)
    SMPACK_OP(INST, false)
    SMPACK_OP(LONG_BINGET, true)
    SMPACK_OP(LIST, false)
    SMPACK_OP(EMPTY_LIST, true)
    SMPACK_OP(OBJ, false)
    SMPACK_OP(PUT, false)
    SMPACK_OP(BINPUT, true)
    SMPACK_OP(LONG_BINPUT, true)
    SMPACK_OP(SETITEM, true)
    SMPACK_OP(TUPLE, true)
    SMPACK_OP(EMPTY_TUPLE, true)
    SMPACK_OP(SETITEMS, true)
    SMPACK_OP(BINFLOAT, true)
    SMPACK_OP(BINBYTES, false)
    SMPACK_OP(SHORT_BINBYTES, false)
    SMPACK_OP(PROTO, true)
    SMPACK_OP(NEWOBJ, true)
    SMPACK_OP(EXT1, false)
    SMPACK_OP(EXT2, false)
    SMPACK_OP(EXT4, false)
    SMPACK_OP(TUPLE1, true)
    SMPACK_OP(TUPLE2, true)
    SMPACK_OP(TUPLE3, true)
    SMPACK_OP(NEWTRUE, true)
    SMPACK_OP(NEWFALSE, true)
    SMPACK_OP(LONG1, true)
    SMPACK_OP(LONG4, false)
    SMPACK_OP(SHORT_BINUNICODE, false)
    SMPACK_OP(BINUNICODE8, false)
    SMPACK_OP(BINBYTES8, false)
    SMPACK_OP(EMPTY_SET, true)
    SMPACK_OP(ADDITEMS, false)
    SMPACK_OP(FROZENSET, false)
    SMPACK_OP(NEWOBJ_EX, false)
    SMPACK_OP(STACK_GLOBAL, false)
    SMPACK_OP(MEMOIZE, false)
    SMPACK_OP(FRAME, false)
    SMPACK_OP(BYTEARRAY8, false)
    SMPACK_OP(NEXT_BUFFER, false)
    SMPACK_OP(READONLY_BUFFER, false)
#undef SMPACK_OP
    // clang-format on
  }
  return std::nullopt;
}

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return a * b;
}

std::optional<std::uint32_t> parse_hex(std::string_view digits) {
  std::uint32_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// Protocol 0 UNICODE: raw-unicode-escape, where only \uXXXX and \UXXXXXXXX are
// escapes and every other byte is a Latin-1 character. Decoded because an escaped
// module name ("\u006fs") must be judged as what it spells.
std::optional<std::string> decode_raw_unicode_escape(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    auto byte = static_cast<unsigned char>(raw[i]);
    std::size_t digits = 0;
    if (byte == '\\' && i + 1 < raw.size())
      digits = raw[i + 1] == 'u' ? 4 : raw[i + 1] == 'U' ? 8 : 0;
    if (digits == 0) {
      append_utf8(out, byte);
      continue;
    }
    auto code_point = parse_hex(raw.substr(i + 2, digits));
    if (i + 2 + digits > raw.size() || !code_point || *code_point > 0x10FFFF) return std::nullopt;
    append_utf8(out, *code_point);
    i += 1 + digits;
  }
  return out;
}

// Protocol 0 STRING: a quoted Python 2 str literal with backslash escapes
// (codecs.escape_decode).
std::optional<std::string> decode_string_literal(std::string_view line) {
  if (line.size() < 2 || (line.front() != '\'' && line.front() != '"') ||
      line.back() != line.front()) {
    return std::nullopt;
  }
  std::string_view body = line.substr(1, line.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      out += body[i];
      continue;
    }
    if (++i == body.size()) return std::nullopt;
    char c = body[i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\n':
        break;
      case 'x': {
        auto value = parse_hex(body.substr(i + 1, 2));
        if (i + 2 >= body.size() || !value) return std::nullopt;
        out += static_cast<char>(*value);
        i += 2;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          unsigned value = 0;
          std::size_t n = 0;
          for (; n < 3 && i + n < body.size() && body[i + n] >= '0' && body[i + n] <= '7'; ++n) {
            value = value * 8 + static_cast<unsigned>(body[i + n] - '0');
          }
          out += static_cast<char>(value & 0xFF);
          i += n - 1;
        } else {
          out += '\\';
          out += c;
        }
    }
  }
  return out;
}

// An integer read from a protocol 0 line; `fits` is false beyond 64 bits.
struct PythonInt {
  std::int64_t value = 0;
  bool fits = true;
};

// Magnitudes up to 2^63 are kept: INT64_MIN's is the largest.
constexpr std::uint64_t kMagnitudeLimit = std::uint64_t{1} << 63;

PythonInt signed_int(std::uint64_t magnitude, bool negative) {
  if (magnitude == kMagnitudeLimit) {
    return negative ? PythonInt{std::numeric_limits<std::int64_t>::min(), true}
                    : PythonInt{0, false};
  }
  const auto value = static_cast<std::int64_t>(magnitude);
  return PythonInt{negative ? -value : value, true};
}

// An integer as CPython's int(text) reads it (int(text, 0) when `any_base`): spaces
// around it, a sign, '_' between digits, and with any_base the 0x/0o/0b prefixes and no
// leading zeros in decimal. _pickle.c reads LONG with int(line, 0) and GET and PUT with
// int(line); INT see parse_strtol. `fits` is false beyond 64 bits; nullopt where it raises.
std::optional<PythonInt> parse_python_int(std::string_view text, bool any_base) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return std::nullopt;
  text = text.substr(first, text.find_last_not_of(kSpace) - first + 1);
  bool negative = false;
  if (text.front() == '+' || text.front() == '-') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  unsigned base = 10;
  bool underscore_allowed = false;  // '_' may follow a digit, or a base prefix
  if (any_base && text.size() >= 2 && text[0] == '0') {
    const char prefix = static_cast<char>(text[1] | 0x20);
    base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : prefix == 'b' ? 2 : 10;
    if (base != 10) {
      text.remove_prefix(2);
      underscore_allowed = true;
    }
  }
  std::uint64_t magnitude = 0;
  bool fits = true, any_digit = false, nonzero = false, leading_zero = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '_') {
      if (!underscore_allowed || i + 1 == text.size()) return std::nullopt;
      underscore_allowed = false;
      continue;
    }
    const char lower = static_cast<char>(c | 0x20);
    const unsigned digit = c >= '0' && c <= '9'           ? static_cast<unsigned>(c - '0')
                           : lower >= 'a' && lower <= 'z' ? static_cast<unsigned>(lower - 'a' + 10)
                                                          : 99;
    if (digit >= base) return std::nullopt;
    if (!any_digit && digit == 0) leading_zero = true;
    any_digit = true;
    nonzero = nonzero || digit != 0;
    underscore_allowed = true;
    if (fits && magnitude > (kMagnitudeLimit - digit) / base) fits = false;
    if (fits) magnitude = magnitude * base + digit;
  }
  if (!any_digit) return std::nullopt;
  if (any_base && base == 10 && leading_zero && nonzero) return std::nullopt;  // "010"
  if (!fits) return PythonInt{0, false};
  return signed_int(magnitude, negative);
}

// What C's strtol(text, &end, 0) reads when it must end where the line ends: spaces
// before it, a sign, 0x for hex, a leading 0 for octal. _pickle.c's INT tries this
// first ("010" is 8) and int(line, 0) when it fails.
std::optional<PythonInt> parse_strtol(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string_view::npos) return std::nullopt;
  text.remove_prefix(first);
  bool negative = false;
  if (text.front() == '+' || text.front() == '-') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  unsigned base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] | 0x20) == 'x') {
    base = 16;
    text.remove_prefix(2);
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t magnitude = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (end != text.data() + text.size()) return std::nullopt;
  if (error != std::errc() || magnitude > kMagnitudeLimit) return PythonInt{0, false};
  return signed_int(magnitude, negative);
}

class Simulator {
 public:
  Simulator(std::span<const std::byte> bytes, const PickleLimits& limits)
      : bytes_(bytes),
        limits_(limits),
        none_(make(ValueKind::none)),
        true_(make(ValueKind::boolean, 1)),
        false_(make(ValueKind::boolean, 0)) {}

  PickleAnalysis run() {
    std::uint64_t opcodes = 0;
    while (!done_) {
      if (pos_ >= bytes_.size()) {
        fail(WeightProblemKind::truncated,
             "the pickle ends at offset " + std::to_string(pos_) + " before its STOP opcode");
        break;
      }
      if (++opcodes > limits_.max_opcodes) {
        cap("more than " + std::to_string(limits_.max_opcodes) + " opcodes");
        break;
      }
      if (opcodes % 4096 == 0) {
        if (limits_.deadline && std::chrono::steady_clock::now() >= *limits_.deadline) {
          cap("the analysis ran out of time");
          break;
        }
        if (held_bytes() > limits_.max_memory_bytes) {
          cap("the analysis would hold more than " +
              std::to_string(limits_.max_memory_bytes >> 20) + " MiB");
          break;
        }
      }
      op_offset_ = pos_;
      op_byte_ = read_byte();
      if (!step()) break;
    }
    out_.end_offset = pos_;
    return std::move(out_);
  }

 private:
  // What the simulated objects hold, roughly: each value with a slot or two in a
  // container, its kept text, and the tensors. Every container element was pushed as a
  // value first, so the slots are bounded by the values.
  std::uint64_t held_bytes() const {
    return values_.size() * (sizeof(Value) + 2 * sizeof(ValueId)) + kept_text_bytes_ +
           tensors_.size() * (sizeof(Tensor) + 64);
  }

  // ---- problems -----------------------------------------------------------------

  bool fail(WeightProblemKind kind, std::string message) {
    out_.problems.push_back({kind, std::move(message)});
    out_.complete = false;
    done_ = true;
    return false;
  }
  bool malformed(std::string_view what) {
    return fail(WeightProblemKind::pickle_malformed,
                where() + ": " + std::string(what) + "; nothing after it was analysed");
  }
  bool cap(std::string_view what) {
    return fail(WeightProblemKind::cap_exceeded,
                "stopped at offset " + std::to_string(op_offset_) + ": " + std::string(what));
  }
  std::string op_name() const {
    auto info = opcode_info(op_byte_);
    return info ? std::string(info->name) : "opcode";
  }
  std::string where() const { return op_name() + " at offset " + std::to_string(op_offset_); }
  void raise_verdict(PickleVerdict verdict) { out_.verdict = worse(out_.verdict, verdict); }

  // ---- reading ------------------------------------------------------------------

  std::uint8_t read_byte() { return static_cast<std::uint8_t>(bytes_[pos_++]); }
  bool need(std::uint64_t n) {
    if (bytes_.size() - pos_ >= n) return true;
    return fail(WeightProblemKind::truncated, where() + " needs " + std::to_string(n) +
                                                  " bytes but the pickle ends at offset " +
                                                  std::to_string(bytes_.size()));
  }
  std::optional<std::uint64_t> read_le(std::size_t width) {
    if (!need(width)) return std::nullopt;
    const std::uint64_t value = load_le(bytes_.subspan(pos_), width);
    pos_ += width;
    return value;
  }
  std::optional<std::string_view> read_bytes(std::uint64_t n) {
    if (!need(n)) return std::nullopt;
    std::string_view view(reinterpret_cast<const char*>(bytes_.data()) + pos_,
                          static_cast<std::size_t>(n));
    pos_ += n;
    return view;
  }
  // A protocol 0 argument: up to and without its '\n'.
  std::optional<std::string_view> read_line() {
    const auto* start = reinterpret_cast<const char*>(bytes_.data()) + pos_;
    std::size_t left = bytes_.size() - pos_;
    const void* newline = std::memchr(start, '\n', left);
    if (newline == nullptr) {
      fail(WeightProblemKind::truncated,
           where() + ": its text argument has no end of line before the pickle ends");
      return std::nullopt;
    }
    auto length = static_cast<std::size_t>(static_cast<const char*>(newline) - start);
    pos_ += length + 1;
    return std::string_view(start, length);
  }
  enum class IntLine { int_opcode, long_opcode, memo_index };
  // A protocol 0 integer argument, read as _pickle.c reads it.
  std::optional<PythonInt> read_int_line(IntLine kind) {
    auto line = read_line();
    if (!line) return std::nullopt;
    std::string_view digits = *line;
    if (kind == IntLine::long_opcode && digits.ends_with('L')) digits.remove_suffix(1);
    std::optional<PythonInt> value;
    if (kind == IntLine::int_opcode) value = parse_strtol(digits);
    if (!value) value = parse_python_int(digits, kind != IntLine::memo_index);
    if (!value) malformed("'" + std::string(line->substr(0, 40)) + "' is not an integer");
    return value;
  }
  // A memo index (GET, PUT): int(line) in base 10.
  std::optional<std::int64_t> read_index_line() {
    auto value = read_int_line(IntLine::memo_index);
    if (!value) return std::nullopt;
    if (!value->fits) {
      malformed("a memo index beyond 64 bits");
      return std::nullopt;
    }
    return value->value;
  }

  // ---- values and the stack -----------------------------------------------------

  ValueId make(ValueKind kind, std::int64_t integer = 0, std::string_view text = {}) {
    Value value;
    value.kind = kind;
    value.integer = integer;
    value.text.assign(text.substr(0, kMaxKeptText));
    value.text_cut = text.size() > kMaxKeptText;
    kept_text_bytes_ += value.text.size();
    values_.push_back(std::move(value));
    return static_cast<ValueId>(values_.size() - 1);
  }
  bool push(ValueId id) {
    if (stack_.size() + marks_.size() >= limits_.max_stack_depth) {
      return cap("the stack is deeper than " + std::to_string(limits_.max_stack_depth));
    }
    stack_.push_back(id);
    return true;
  }
  bool push_new(ValueKind kind, std::int64_t integer = 0, std::string_view text = {}) {
    return push(make(kind, integer, text));
  }
  std::size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  // Like CPython, a pop may not reach below the innermost MARK.
  std::optional<ValueId> pop() {
    if (stack_.size() <= fence()) {
      malformed("stack underflow");
      return std::nullopt;
    }
    ValueId id = stack_.back();
    stack_.pop_back();
    return id;
  }
  std::optional<ValueId> top() {
    if (stack_.size() <= fence()) {
      malformed("stack underflow");
      return std::nullopt;
    }
    return stack_.back();
  }
  std::optional<std::vector<ValueId>> pop_mark() {
    if (marks_.empty()) {
      malformed("no MARK to pop to");
      return std::nullopt;
    }
    std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValueId> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  bool push_container(ValueKind kind, std::vector<ValueId> items) {
    ValueId id = make(kind);
    values_[id].items = std::move(items);
    return push(id);
  }
  bool pop_into_container(ValueKind kind, std::size_t count) {
    std::vector<ValueId> items(count);
    for (std::size_t i = count; i-- > 0;) {
      auto item = pop();
      if (!item) return false;
      items[i] = *item;
    }
    return push_container(kind, std::move(items));
  }

  // ---- the memo -----------------------------------------------------------------

  bool memo_get(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return malformed("memo entry " + std::to_string(index) + " is missing");
    return push(it->second);
  }
  bool memo_put(std::uint64_t index) {
    auto value = top();
    if (!value) return false;
    if (!memo_.contains(index) && memo_.size() >= limits_.max_memo_entries) {
      return cap("more than " + std::to_string(limits_.max_memo_entries) + " memo entries");
    }
    memo_[index] = *value;
    return true;
  }

  // ---- globals and calls --------------------------------------------------------

  bool import_global(std::string_view module, std::string_view name) {
    std::string qualified = std::string(module) + "." + std::string(name);
    if (seen_globals_.insert(qualified).second) {
      out_.globals.push_back(qualified);
      GlobalJudgement judgement = judge_global(module, name);
      if (judgement.verdict != PickleVerdict::weights_only) {
        raise_verdict(judgement.verdict);
        out_.problems.push_back({judgement.verdict == PickleVerdict::dangerous
                                     ? WeightProblemKind::pickle_dangerous_global
                                     : WeightProblemKind::pickle_unknown_global,
                                 where() + " imports " + qualified + ": " + judgement.reason});
      }
    }
    return push_new(ValueKind::global, 0, qualified);
  }

  bool is_global(ValueId id, std::string_view qualified) const {
    return values_[id].kind == ValueKind::global && values_[id].text == qualified;
  }

  // Calling anything but an imported global (a call's result, a memo entry holding
  // one) is outside what the allowlist can vouch for.
  void check_callee(ValueId callee) {
    if (values_[callee].kind == ValueKind::global) return;
    raise_verdict(PickleVerdict::unknown_code);
    out_.problems.push_back({WeightProblemKind::pickle_unsafe_opcode,
                             where() + " calls a value that is not an imported global"});
  }

  bool call(ValueId callee, ValueId args) {
    check_callee(callee);
    if (auto tensor = rebuild_tensor(callee, args)) return push(*tensor);
    const Value& function = values_[callee];
    bool builds_dict = function.kind == ValueKind::global &&
                       (function.text == "collections.OrderedDict" ||
                        function.text == "builtins.dict" || function.text == "collections.Counter");
    ValueId result = make(builds_dict ? ValueKind::dict : ValueKind::object);
    values_[result].callee = callee;
    values_[result].items.push_back(args);
    return push(result);
  }

  std::vector<std::int64_t> strides_of(ValueId id) const {
    std::vector<std::int64_t> strides;
    const Value& value = values_[id];
    if (value.kind != ValueKind::tuple && value.kind != ValueKind::list) return strides;
    for (ValueId item : value.items) {
      if (values_[item].kind != ValueKind::integer) return {};
      strides.push_back(values_[item].integer);
    }
    return strides;
  }

  std::optional<std::vector<std::uint64_t>> shape_of(ValueId id) const {
    const Value& value = values_[id];
    if (value.kind != ValueKind::tuple && value.kind != ValueKind::list) return std::nullopt;
    std::vector<std::uint64_t> shape;
    for (ValueId item : value.items) {
      if (values_[item].kind != ValueKind::integer || values_[item].integer < 0)
        return std::nullopt;
      shape.push_back(static_cast<std::uint64_t>(values_[item].integer));
    }
    return shape;
  }

  // torch._utils._rebuild_* (and Parameter wrappers) on a persistent storage: the
  // tensor torch would build, so state dicts list names, dtypes and shapes.
  std::optional<ValueId> rebuild_tensor(ValueId callee, ValueId args_id) {
    const Value& function = values_[callee];
    const Value& args = values_[args_id];
    if (function.kind != ValueKind::global || args.kind != ValueKind::tuple || args.items.empty()) {
      return std::nullopt;
    }
    const std::string& name = function.text;
    ValueId first = args.items[0];
    if (name == "torch._utils._rebuild_parameter" ||
        name == "torch._utils._rebuild_parameter_with_state" ||
        name == "torch.nn.parameter.Parameter") {
      if (values_[first].kind == ValueKind::tensor) return first;
      return std::nullopt;
    }
    if (name == "torch._tensor._rebuild_from_type_v2" && args.items.size() >= 3) {
      return rebuild_tensor(args.items[0], args.items[2]);
    }
    bool rebuilds_storage =
        name == "torch._utils._rebuild_tensor" || name == "torch._utils._rebuild_tensor_v2" ||
        name == "torch._utils._rebuild_tensor_v3" || name == "torch._utils._rebuild_qtensor";
    if (!rebuilds_storage || args.items.size() < 3 || values_[first].kind != ValueKind::storage) {
      return std::nullopt;
    }
    auto shape = shape_of(args.items[2]);
    if (!shape) return std::nullopt;
    const PickleStorageRef& storage =
        out_.storages[static_cast<std::size_t>(values_[first].integer)];
    Tensor tensor{storage.dtype, std::move(*shape), storage.element_size, {storage.key, 0, {}}};
    if (const Value& offset = values_[args.items[1]];
        offset.kind == ValueKind::integer && offset.integer >= 0) {
      tensor.layout.storage_offset = static_cast<std::uint64_t>(offset.integer);
    }
    if (args.items.size() >= 4) tensor.layout.strides = strides_of(args.items[3]);
    if (name == "torch._utils._rebuild_tensor_v3" && args.items.size() >= 7 &&
        values_[args.items[6]].kind == ValueKind::global) {
      if (auto element = dtype_element_type(values_[args.items[6]].text)) {
        tensor.dtype = std::string(element->dtype);
        tensor.element_size = element->size;
      }
    }
    tensors_.push_back(std::move(tensor));
    return make(ValueKind::tensor, static_cast<std::int64_t>(tensors_.size() - 1));
  }

  // ('storage', <Type>Storage, key, location, numel[, view_metadata])
  ValueId persistent_load(ValueId pid_id) {
    const Value& pid = values_[pid_id];
    auto is_text = [&](std::size_t i) { return values_[pid.items[i]].kind == ValueKind::text; };
    if (pid.kind != ValueKind::tuple || pid.items.size() < 5 || !is_text(0) ||
        values_[pid.items[0]].text != "storage" ||
        values_[pid.items[1]].kind != ValueKind::global ||
        values_[pid.items[4]].kind != ValueKind::integer || values_[pid.items[4]].integer < 0) {
      return make(ValueKind::opaque);
    }
    const Value& key = values_[pid.items[2]];
    std::string key_text = key.kind == ValueKind::integer ? std::to_string(key.integer) : key.text;
    auto [it, inserted] = storage_index_.try_emplace(key_text, out_.storages.size());
    if (inserted) {
      auto element = storage_element_type(values_[pid.items[1]].text);
      out_.storages.push_back({key_text, element ? std::string(element->dtype) : "unknown",
                               element ? element->size : 0,
                               static_cast<std::uint64_t>(values_[pid.items[4]].integer),
                               is_text(3) ? values_[pid.items[3]].text : ""});
    }
    return make(ValueKind::storage, static_cast<std::int64_t>(it->second));
  }

  // ---- one opcode -----------------------------------------------------------------

  void note_opcode() {
    auto info = opcode_info(op_byte_);
    if (!info || info->weights_only || !outside_set_reported_.insert(op_byte_).second) return;
    out_.problems.push_back({WeightProblemKind::pickle_unsafe_opcode,
                             where() + " is outside torch's weights_only opcode set, so "
                                       "torch.load(weights_only=True) refuses this pickle"});
  }

  bool text_value(std::optional<std::string_view> text) {
    return text && push_new(ValueKind::text, 0, *text);
  }
  bool sized_text(std::size_t width) {
    auto length = read_le(width);
    return length && text_value(read_bytes(*length));
  }

  bool set_items() {
    auto items = pop_mark();
    if (!items) return false;
    if (items->size() % 2 != 0) return malformed("an odd number of items for SETITEMS");
    auto target = top();
    if (!target) return false;
    auto& pairs = values_[*target].pairs;
    pairs.insert(pairs.end(), items->begin(), items->end());
    return true;
  }
  bool append_items(std::vector<ValueId> items) {
    auto target = top();
    if (!target) return false;
    auto& list = values_[*target].items;
    list.insert(list.end(), items.begin(), items.end());
    return true;
  }

  bool step() {
    auto info = opcode_info(op_byte_);
    if (!info) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", op_byte_);
      return malformed(std::string("unknown opcode ") + hex);
    }
    note_opcode();
    switch (static_cast<Opcode>(op_byte_)) {
      case Opcode::PROTO: {
        if (!need(1)) return false;
        out_.protocol = read_byte();
        if (out_.protocol > 5)
          return malformed("unsupported protocol " + std::to_string(out_.protocol));
        return true;
      }
      case Opcode::FRAME: {
        auto length = read_le(8);
        if (!length) return false;
        if (*length > bytes_.size() - pos_) {
          return fail(WeightProblemKind::truncated,
                      where() + " announces " + std::to_string(*length) +
                          " bytes but the pickle ends at offset " + std::to_string(bytes_.size()));
        }
        return true;
      }
      case Opcode::STOP: {
        auto root = pop();
        if (!root) return false;
        out_.reached_stop = true;
        done_ = true;
        collect_tensors(*root);
        return true;
      }
      case Opcode::MARK:
        if (stack_.size() + marks_.size() >= limits_.max_stack_depth) {
          return cap("the stack is deeper than " + std::to_string(limits_.max_stack_depth));
        }
        marks_.push_back(stack_.size());
        return true;
      case Opcode::POP:
        if (stack_.size() > fence()) return pop().has_value();
        return pop_mark().has_value();
      case Opcode::POP_MARK:
        return pop_mark().has_value();
      case Opcode::DUP: {
        auto value = top();
        return value && push(*value);
      }
      // One value each, shared: a flood of NONE, POP costs no memory.
      case Opcode::NONE:
        return push(none_);
      case Opcode::NEWTRUE:
        return push(true_);
      case Opcode::NEWFALSE:
        return push(false_);
      case Opcode::INT:
      case Opcode::LONG: {
        // "I00" and "I01" are protocol 0's False and True.
        auto value = read_int_line(op_byte_ == static_cast<std::uint8_t>(Opcode::INT)
                                       ? IntLine::int_opcode
                                       : IntLine::long_opcode);
        if (!value) return false;
        return value->fits ? push_new(ValueKind::integer, value->value)
                           : push_new(ValueKind::big_integer);
      }
      case Opcode::BININT: {
        auto value = read_le(4);
        return value && push_new(ValueKind::integer, static_cast<std::int32_t>(*value));
      }
      case Opcode::BININT1:
      case Opcode::BININT2: {
        auto value = read_le(op_byte_ == static_cast<std::uint8_t>(Opcode::BININT1) ? 1 : 2);
        return value && push_new(ValueKind::integer, static_cast<std::int64_t>(*value));
      }
      case Opcode::LONG1:
      case Opcode::LONG4: {
        auto length = read_le(op_byte_ == static_cast<std::uint8_t>(Opcode::LONG1) ? 1 : 4);
        if (!length) return false;
        auto digits = read_bytes(*length);
        if (!digits) return false;
        if (digits->size() > 8) return push_new(ValueKind::big_integer);
        std::uint64_t raw = 0;
        for (std::size_t i = 0; i < digits->size(); ++i) {
          raw |= static_cast<std::uint64_t>(static_cast<unsigned char>((*digits)[i])) << (8 * i);
        }
        // Two's complement of the given width.
        if (!digits->empty() && digits->size() < 8 && (raw >> (8 * digits->size() - 1)) & 1) {
          raw |= ~std::uint64_t{0} << (8 * digits->size());
        }
        return push_new(ValueKind::integer, static_cast<std::int64_t>(raw));
      }
      case Opcode::FLOAT:
        return read_line() && push_new(ValueKind::floating);
      case Opcode::BINFLOAT:
        return read_bytes(8) && push_new(ValueKind::floating);
      case Opcode::STRING: {
        auto line = read_line();
        if (!line) return false;
        auto text = decode_string_literal(*line);
        if (!text) return malformed("the STRING argument is not a quoted, escaped literal");
        return push_new(ValueKind::text, 0, *text);
      }
      case Opcode::UNICODE: {
        auto line = read_line();
        if (!line) return false;
        auto text = decode_raw_unicode_escape(*line);
        if (!text) return malformed("the UNICODE argument has a bad \\u escape");
        return push_new(ValueKind::text, 0, *text);
      }
      case Opcode::SHORT_BINSTRING:
      case Opcode::SHORT_BINBYTES:
      case Opcode::SHORT_BINUNICODE:
        return sized_text(1);
      case Opcode::BINSTRING:
      case Opcode::BINBYTES:
      case Opcode::BINUNICODE:
        return sized_text(4);
      case Opcode::BINUNICODE8:
      case Opcode::BINBYTES8:
      case Opcode::BYTEARRAY8:
        return sized_text(8);
      case Opcode::EMPTY_TUPLE:
        return push_container(ValueKind::tuple, {});
      case Opcode::EMPTY_LIST:
        return push_container(ValueKind::list, {});
      case Opcode::EMPTY_DICT:
        return push_container(ValueKind::dict, {});
      case Opcode::EMPTY_SET:
        return push_container(ValueKind::set, {});
      case Opcode::TUPLE1:
        return pop_into_container(ValueKind::tuple, 1);
      case Opcode::TUPLE2:
        return pop_into_container(ValueKind::tuple, 2);
      case Opcode::TUPLE3:
        return pop_into_container(ValueKind::tuple, 3);
      case Opcode::TUPLE:
      case Opcode::LIST:
      case Opcode::FROZENSET: {
        auto items = pop_mark();
        ValueKind kind = op_byte_ == static_cast<std::uint8_t>(Opcode::TUPLE)  ? ValueKind::tuple
                         : op_byte_ == static_cast<std::uint8_t>(Opcode::LIST) ? ValueKind::list
                                                                               : ValueKind::set;
        return items && push_container(kind, std::move(*items));
      }
      case Opcode::DICT: {
        auto items = pop_mark();
        if (!items) return false;
        if (items->size() % 2 != 0) return malformed("an odd number of items for DICT");
        ValueId id = make(ValueKind::dict);
        values_[id].pairs = std::move(*items);
        return push(id);
      }
      case Opcode::APPEND: {
        auto value = pop();
        return value && append_items({*value});
      }
      case Opcode::APPENDS:
      case Opcode::ADDITEMS: {
        auto items = pop_mark();
        return items && append_items(std::move(*items));
      }
      case Opcode::SETITEM: {
        auto value = pop();
        if (!value) return false;
        auto key = pop();
        if (!key) return false;
        auto target = top();
        if (!target) return false;
        values_[*target].pairs.insert(values_[*target].pairs.end(), {*key, *value});
        return true;
      }
      case Opcode::SETITEMS:
        return set_items();
      case Opcode::GET: {
        auto index = read_index_line();
        return index && memo_get(static_cast<std::uint64_t>(*index));
      }
      case Opcode::BINGET:
      case Opcode::LONG_BINGET: {
        auto index = read_le(op_byte_ == static_cast<std::uint8_t>(Opcode::BINGET) ? 1 : 4);
        return index && memo_get(*index);
      }
      case Opcode::PUT: {
        auto index = read_index_line();
        if (!index) return false;
        if (*index < 0) return malformed("a negative memo index");
        return memo_put(static_cast<std::uint64_t>(*index));
      }
      case Opcode::BINPUT:
      case Opcode::LONG_BINPUT: {
        auto index = read_le(op_byte_ == static_cast<std::uint8_t>(Opcode::BINPUT) ? 1 : 4);
        return index && memo_put(*index);
      }
      case Opcode::MEMOIZE:
        return memo_put(memo_.size());
      case Opcode::GLOBAL:
      case Opcode::INST: {
        auto module = read_line();
        if (!module) return false;
        auto name = read_line();
        if (!name) return false;
        if (op_byte_ == static_cast<std::uint8_t>(Opcode::GLOBAL))
          return import_global(*module, *name);
        auto args = pop_mark();
        if (!args || !import_global(*module, *name)) return false;
        ValueId cls = stack_.back();
        stack_.pop_back();
        ValueId arg_tuple = make(ValueKind::tuple);
        values_[arg_tuple].items = std::move(*args);
        return call(cls, arg_tuple);
      }
      case Opcode::STACK_GLOBAL: {
        auto name = pop();
        if (!name) return false;
        auto module = pop();
        if (!module) return false;
        if (values_[*module].kind != ValueKind::text || values_[*name].kind != ValueKind::text) {
          raise_verdict(PickleVerdict::dangerous);
          out_.problems.push_back(
              {WeightProblemKind::pickle_dynamic_global,
               where() + " imports a global whose module or name is computed while loading, "
                         "so it can be anything"});
          return push_new(ValueKind::global, 0, "?.?");
        }
        if (values_[*module].text_cut || values_[*name].text_cut) {
          // Only the first kMaxKeptText bytes are kept: the rest of a dotted name
          // ("...os.system") would go unjudged, so the import cannot be judged at all.
          raise_verdict(PickleVerdict::dangerous);
          out_.problems.push_back(
              {WeightProblemKind::pickle_dynamic_global,
               where() + " imports a global whose module or name is longer than " +
                   std::to_string(kMaxKeptText) + " bytes, which cannot be judged"});
          return push_new(ValueKind::global, 0, "?.?");
        }
        // Copies: import_global may grow values_ and move the strings.
        std::string module_text = values_[*module].text;
        std::string name_text = values_[*name].text;
        return import_global(module_text, name_text);
      }
      case Opcode::REDUCE:
      case Opcode::NEWOBJ: {
        auto args = pop();
        if (!args) return false;
        auto callee = pop();
        return callee && call(*callee, *args);
      }
      case Opcode::NEWOBJ_EX: {
        auto kwargs = pop();
        if (!kwargs) return false;
        auto args = pop();
        if (!args) return false;
        auto callee = pop();
        return callee && call(*callee, *args);
      }
      case Opcode::OBJ: {
        auto items = pop_mark();
        if (!items) return false;
        if (items->empty()) return malformed("OBJ without a class");
        ValueId args = make(ValueKind::tuple);
        values_[args].items.assign(items->begin() + 1, items->end());
        return call(items->front(), args);
      }
      case Opcode::BUILD: {
        auto state = pop();
        if (!state) return false;
        auto target = top();
        if (!target) return false;
        values_[*target].state = *state;
        return true;
      }
      case Opcode::PERSID: {
        auto line = read_line();
        return line && push_new(ValueKind::opaque);
      }
      case Opcode::BINPERSID: {
        auto pid = pop();
        return pid && push(persistent_load(*pid));
      }
      case Opcode::EXT1:
      case Opcode::EXT2:
      case Opcode::EXT4: {
        std::size_t width = op_byte_ == static_cast<std::uint8_t>(Opcode::EXT1)   ? 1
                            : op_byte_ == static_cast<std::uint8_t>(Opcode::EXT2) ? 2
                                                                                  : 4;
        auto code = read_le(width);
        if (!code) return false;
        raise_verdict(PickleVerdict::unknown_code);
        out_.problems.push_back({WeightProblemKind::pickle_unknown_global,
                                 where() + " imports extension code " + std::to_string(*code) +
                                     ", whatever copyreg maps it to"});
        return push_new(ValueKind::global, 0, "copyreg.extension");
      }
      case Opcode::NEXT_BUFFER:
        return push_new(ValueKind::opaque);
      case Opcode::READONLY_BUFFER:
        return top().has_value();
    }
    return malformed("unhandled opcode");
  }

  // ---- tensors ------------------------------------------------------------------

  std::string key_name(ValueId key) const {
    const Value& value = values_[key];
    if (value.kind == ValueKind::text) return value.text;
    if (value.kind == ValueKind::integer) return std::to_string(value.integer);
    return "?";
  }

  using Path = std::shared_ptr<const std::string>;

  // The path of a child: kept whole up to kMaxTensorNameBytes, after that cut with "…"
  // and shared by everything below, so that a deep structure costs linear time and
  // memory rather than a copy of its whole path at every depth.
  static Path join(const Path& prefix, const std::string& part) {
    if (prefix->empty())
      return std::make_shared<const std::string>(part.substr(0, kMaxTensorNameBytes));
    if (prefix->ends_with(kCutMark)) return prefix;
    if (prefix->size() + 1 + part.size() > kMaxTensorNameBytes) {
      return std::make_shared<const std::string>(*prefix + "." + std::string(kCutMark));
    }
    return std::make_shared<const std::string>(*prefix + "." + part);
  }

  // Lists every tensor reachable from the unpickled object, named by its path.
  // Containers are visited once, so shared or cyclic structures stay bounded.
  void collect_tensors(ValueId root) {
    std::vector<std::pair<ValueId, Path>> pending{{root, std::make_shared<const std::string>()}};
    std::unordered_set<ValueId> visited;
    while (!pending.empty()) {
      auto [id, path_pointer] = std::move(pending.back());
      pending.pop_back();
      const std::string& path = *path_pointer;
      const Value& value = values_[id];
      if (value.kind == ValueKind::tensor) {
        if (out_.tensors.size() >= limits_.max_tensors) {
          out_.problems.push_back(
              {WeightProblemKind::cap_exceeded, "more than " + std::to_string(limits_.max_tensors) +
                                                    " tensors; the rest are not listed"});
          out_.complete = false;
          return;
        }
        const Tensor& tensor = tensors_[static_cast<std::size_t>(value.integer)];
        std::uint64_t bytes = tensor.element_size;
        for (std::uint64_t dim : tensor.shape) bytes = saturating_mul(bytes, dim);
        out_.tensors.push_back({path.empty() ? "(root)" : path, tensor.dtype, tensor.shape, bytes});
        out_.layouts.push_back(tensor.layout);
        continue;
      }
      if (!visited.insert(id).second) continue;
      // Pushed in reverse so that tensors come out in pickle order.
      for (std::size_t i = value.pairs.size(); i >= 2; i -= 2) {
        pending.emplace_back(value.pairs[i - 1], join(path_pointer, key_name(value.pairs[i - 2])));
      }
      bool is_sequence = value.kind == ValueKind::list || value.kind == ValueKind::tuple ||
                         value.kind == ValueKind::set;
      if (is_sequence || value.kind == ValueKind::object) {
        // An object's first item is its argument tuple; its appended items follow.
        for (std::size_t i = value.items.size(); i-- > 0;) {
          std::size_t index = value.kind == ValueKind::object ? i - (i > 0 ? 1 : 0) : i;
          pending.emplace_back(value.items[i], value.kind == ValueKind::object && i == 0
                                                   ? path_pointer
                                                   : join(path_pointer, std::to_string(index)));
        }
      }
      if (value.state != kNoValue) pending.emplace_back(value.state, path_pointer);
    }
  }

  std::span<const std::byte> bytes_;
  const PickleLimits& limits_;
  std::deque<Value> values_;  // a deque grows without copying what it holds
  std::uint64_t kept_text_bytes_ = 0;
  const ValueId none_, true_, false_;
  std::uint64_t pos_ = 0;
  std::uint64_t op_offset_ = 0;
  std::uint8_t op_byte_ = 0;
  bool done_ = false;
  std::vector<ValueId> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, ValueId> memo_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string, std::size_t> storage_index_;
  std::unordered_set<std::string> seen_globals_;
  std::unordered_set<std::uint8_t> outside_set_reported_;
  PickleAnalysis out_;
};

}  // namespace

PickleAnalysis analyze_pickle(std::span<const std::byte> bytes, const PickleLimits& limits) {
  return Simulator(bytes, limits).run();
}

}  // namespace smpack
