// Byte counts for people: "512 B", "1.5 KiB", "946.8 MiB" (powers of 1024).
#pragma once

#include <cstdint>
#include <string>

namespace smpack {

std::string human_bytes(std::uint64_t bytes);

}  // namespace smpack
