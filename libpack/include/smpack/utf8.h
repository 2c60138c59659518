// UTF-8 decoding, as Python's 'utf-8' codec judges it (no surrogates, no overlong forms):
// one code point at a time, never reading past the end, and treating any malformed
// sequence as a single invalid byte. The Python tokenizer, name checks and the serving
// harness's text bodies use it; append_utf8 encodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace smpack {

struct Utf8Char {
  std::uint32_t code_point = 0;
  std::size_t length = 1;  // bytes consumed, at least 1
  bool valid = false;
};

inline Utf8Char decode_utf8(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {lead, 1, true};
  std::size_t length = 0;
  std::uint32_t code_point = 0;
  std::uint32_t min_value = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1Fu, min_value = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0Fu, min_value = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07u, min_value = 0x10000;
  } else {
    return {lead, 1, false};
  }
  if (text.size() - pos < length) return {lead, 1, false};
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return {lead, 1, false};
    code_point = (code_point << 6) | (byte(i) & 0x3Fu);
  }
  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  if (code_point < min_value || code_point > 0x10FFFF || surrogate) return {lead, 1, false};
  return {code_point, length, true};
}

// Appends the UTF-8 encoding of a code point (up to U+10FFFF; callers decide what a
// surrogate becomes).
inline void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Where the first byte that is not part of a well-formed UTF-8 sequence is, or npos.
inline std::size_t first_invalid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8(text, pos);
    if (!c.valid) return pos;
    pos += c.length;
  }
  return std::string_view::npos;
}

}  // namespace smpack
