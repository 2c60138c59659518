// The text of invoke_driver.py, embedded at configure time (cmake/EmbedTemplates.cmake), so
// that smpack invoke writes it next to the model without looking for an installed file.
#pragma once

#include <string_view>

namespace smpack {

std::string_view invoke_driver_source();

}  // namespace smpack
