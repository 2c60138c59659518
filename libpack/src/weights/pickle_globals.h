// The policy half of the pickle analyser: which globals PyTorch's weights_only
// unpickler allows, which ones are known to execute code, and what torch's storage
// and dtype globals mean.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smpack/weight_report.h"

namespace smpack {

struct GlobalJudgement {
  PickleVerdict verdict = PickleVerdict::weights_only;
  std::string reason;  // empty for weights_only; "executes code: ..." otherwise
};

GlobalJudgement judge_global(std::string_view module, std::string_view name);

struct TorchElementType {
  std::string_view dtype;  // "float32", ...
  std::uint64_t size = 0;  // bytes per element
};

// "torch.FloatStorage" (also torch.cuda.*, torch.storage.UntypedStorage) -> float32/4.
std::optional<TorchElementType> storage_element_type(std::string_view qualified_name);
// "torch.float32" -> float32/4.
std::optional<TorchElementType> dtype_element_type(std::string_view qualified_name);

}  // namespace smpack
