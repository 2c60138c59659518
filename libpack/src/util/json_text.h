// The text of a JSON document as every report prints it: indented by two, ending in a
// newline. Names from archives may hold bytes that are not UTF-8, which JSON cannot
// carry: each is written as U+FFFD rather than failing the whole document.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace smpack {

inline std::string json_text(const nlohmann::ordered_json& doc) {
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// A string a report may lack: null when empty.
inline nlohmann::ordered_json string_or_null(const std::string& text) {
  return text.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(text);
}

}  // namespace smpack
