#include "torch_save_pickle.h"

#include <array>
#include <cstring>
#include <set>
#include <unordered_set>

namespace smpack::harness {
namespace {

using Kind = PickledValue::Kind;

struct StorageType {
  std::string_view name;
  ElementType type;
  std::uint64_t element_size;
};

constexpr std::array<StorageType, 11> kStorageTypes{{
    {"torch.DoubleStorage", ElementType::float64, 8},
    {"torch.FloatStorage", ElementType::float32, 4},
    {"torch.HalfStorage", ElementType::float16, 2},
    {"torch.BFloat16Storage", ElementType::bfloat16, 2},
    {"torch.LongStorage", ElementType::int64, 8},
    {"torch.IntStorage", ElementType::int32, 4},
    {"torch.ShortStorage", ElementType::int16, 2},
    {"torch.CharStorage", ElementType::int8, 1},
    {"torch.ByteStorage", ElementType::uint8, 1},
    {"torch.UntypedStorage", ElementType::uint8, 1},
    {"torch.BoolStorage", ElementType::boolean, 1},
}};

bool is_tensor_rebuild(std::string_view global) {
  return global == "torch._utils._rebuild_tensor_v2";
}
bool is_parameter_rebuild(std::string_view global) {
  return global == "torch._utils._rebuild_parameter" ||
         global == "torch._utils._rebuild_parameter_with_state";
}

class PickleMachine {
 public:
  PickleMachine(std::string_view pickle, const PickleLimits& limits)
      : data_(pickle), limits_(limits) {}

  Result<PickledGraph> run() && {
    while (true) {
      if (position_ >= data_.size()) return fail("pickle ends without STOP");
      opcode_offset_ = position_;
      const auto opcode = static_cast<unsigned char>(data_[position_++]);
      if (opcode == '.') {
        if (stack_.size() != 1)
          return fail("STOP with " + std::to_string(stack_.size()) + " values on the stack");
        PickledGraph graph;
        graph.root = stack_.back();
        graph.values = std::move(values_);
        return graph;
      }
      if (auto step = execute(opcode); !step) return std::move(step).error();
      if (stack_.size() > limits_.max_stack) return fail("stack grows past the limit");
    }
  }

 private:
  PickledValue* make(Kind kind) {
    values_.push_back(std::make_unique<PickledValue>());
    values_.back()->kind = kind;
    return values_.back().get();
  }

  Error fail(const std::string& what) const {
    return Error::bad_input("data.pkl offset " + std::to_string(opcode_offset_) + ": " + what);
  }

  Result<std::string_view> take(std::uint64_t count) {
    if (count > data_.size() - position_) return fail("truncated");
    auto bytes = data_.substr(position_, count);
    position_ += count;
    return bytes;
  }

  Result<std::uint64_t> take_unsigned(unsigned width) {
    auto bytes = take(width);
    if (!bytes) return std::move(bytes).error();
    std::uint64_t value = 0;
    for (unsigned i = 0; i < width; ++i) {
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>((*bytes)[i])) << (8 * i);
    }
    return value;
  }

  Result<std::string_view> take_line() {
    const auto end = data_.find('\n', position_);
    if (end == std::string_view::npos) return fail("unterminated GLOBAL name");
    auto line = data_.substr(position_, end - position_);
    position_ = end + 1;
    return line;
  }

  Result<PickledValue*> pop() {
    if (stack_.size() <= floor()) return fail("stack underflow");
    auto value = std::move(stack_.back());
    stack_.pop_back();
    return value;
  }

  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }

  Result<std::vector<PickledValue*>> pop_to_mark() {
    if (marks_.empty()) return fail("no MARK to pop to");
    const auto mark = marks_.back();
    marks_.pop_back();
    std::vector<PickledValue*> items(
        std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
        std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }

  Result<PickledValue*> top_of(Kind kind, std::string_view what) {
    if (stack_.size() <= floor() || stack_.back()->kind != kind) {
      return fail(std::string(what) + " on something else");
    }
    return stack_.back();
  }

  Result<void> push(PickledValue* value) {
    stack_.push_back(value);
    return {};
  }

  Result<void> push_integer(std::int64_t value) {
    auto integer = make(Kind::integer);
    integer->integer = value;
    return push(std::move(integer));
  }

  Result<void> push_text(Kind kind, std::uint64_t length) {
    auto bytes = take(length);
    if (!bytes) return std::move(bytes).error();
    auto value = make(kind);
    value->text = std::string(*bytes);
    return push(std::move(value));
  }

  Result<void> push_tuple(std::vector<PickledValue*> items) {
    auto* tuple = make(Kind::tuple);
    tuple->items.assign(items.begin(), items.end());
    return push(std::move(tuple));
  }

  Result<void> push_last_as_tuple(std::size_t count) {
    if (stack_.size() < floor() + count) return fail("stack underflow");
    std::vector<PickledValue*> items(stack_.end() - static_cast<std::ptrdiff_t>(count),
                                     stack_.end());
    stack_.resize(stack_.size() - count);
    return push_tuple(std::move(items));
  }

  Result<void> memo_put(std::uint64_t index) {
    if (stack_.size() <= floor()) return fail("memo put of nothing");
    if (index >= limits_.max_memo) return fail("memo index past the limit");
    if (index >= memo_.size()) memo_.resize(index + 1);
    memo_[index] = stack_.back();
    return {};
  }

  Result<void> memo_get(std::uint64_t index) {
    if (index >= memo_.size() || !memo_[index]) return fail("memo get of an unset index");
    return push(memo_[index]);
  }

  Result<void> add_items(PickledValue* container, const std::vector<PickledValue*>& items) {
    if (container->items.size() + items.size() > limits_.max_container_items) {
      return fail("list grows past the limit");
    }
    container->items.insert(container->items.end(), items.begin(), items.end());
    return {};
  }

  Result<void> set_items(PickledValue* dict, const std::vector<PickledValue*>& flat) {
    if (flat.size() % 2 != 0) return fail("SETITEMS with an odd number of values");
    if (dict->entries.size() + flat.size() / 2 > limits_.max_container_items) {
      return fail("dict grows past the limit");
    }
    for (std::size_t i = 0; i < flat.size(); i += 2) {
      dict->entries.emplace_back(flat[i], flat[i + 1]);
    }
    return {};
  }

  Result<std::int64_t> integer_item(const PickledValue& tuple, std::size_t index,
                                    std::string_view what) {
    if (index >= tuple.items.size() || tuple.items[index]->kind != Kind::integer) {
      return fail(std::string(what) + " is not an integer");
    }
    return tuple.items[index]->integer;
  }

  Result<std::vector<std::int64_t>> integer_tuple(const PickledValue& value,
                                                  std::string_view what) {
    if (value.kind != Kind::tuple) return fail(std::string(what) + " is not a tuple");
    if (value.items.size() > limits_.max_dimensions)
      return fail(std::string(what) + " has too many dimensions");
    std::vector<std::int64_t> integers;
    for (std::size_t i = 0; i < value.items.size(); ++i) {
      auto integer = integer_item(value, i, what);
      if (!integer) return std::move(integer).error();
      if (*integer < 0) return fail(std::string(what) + " has a negative entry");
      integers.push_back(*integer);
    }
    return integers;
  }

  // ('storage', storage type, key, location, numel) → a storage value.
  Result<PickledValue*> persistent_storage(const PickledValue& id) {
    if (id.kind != Kind::tuple || id.items.size() < 4 || id.items[0]->kind != Kind::text ||
        id.items[0]->text != "storage" || id.items[1]->kind != Kind::global) {
      return fail("persistent id is not ('storage', type, key, location, numel)");
    }
    const auto& key = *id.items[2];
    if (key.kind != Kind::text && key.kind != Kind::integer)
      return fail("storage key is not a string");
    auto storage = make(Kind::storage);
    storage->tensor.storage_key = key.kind == Kind::text ? key.text : std::to_string(key.integer);
    if (storage->tensor.storage_key.empty() ||
        storage->tensor.storage_key.find_first_of("/\\") != std::string::npos) {
      return fail("storage key '" + storage->tensor.storage_key + "' is not a record name");
    }
    for (const auto& known : kStorageTypes) {
      if (id.items[1]->text == known.name) {
        storage->tensor.type = known.type;
        storage->tensor.element_size = known.element_size;
        return storage;
      }
    }
    return fail("unsupported storage type " + id.items[1]->text);
  }

  Result<PickledValue*> rebuild_tensor(const PickledValue& args) {
    if (args.kind != Kind::tuple || args.items.size() < 4 || args.items[0]->kind != Kind::storage) {
      return fail("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)");
    }
    auto tensor = make(Kind::tensor);
    tensor->tensor = args.items[0]->tensor;
    auto offset = integer_item(args, 1, "storage offset");
    if (!offset) return std::move(offset).error();
    if (*offset < 0) return fail("negative storage offset");
    auto sizes = integer_tuple(*args.items[2], "size");
    if (!sizes) return std::move(sizes).error();
    auto strides = integer_tuple(*args.items[3], "stride");
    if (!strides) return std::move(strides).error();
    if (sizes->size() != strides->size()) return fail("size and stride differ in length");
    tensor->tensor.storage_offset = *offset;
    tensor->tensor.sizes = std::move(*sizes);
    tensor->tensor.strides = std::move(*strides);
    return tensor;
  }

  Result<void> reduce(const PickledValue* callable, PickledValue* args) {
    if (callable->kind != Kind::global) return fail("REDUCE of something that is not a global");
    const auto& name = callable->text;
    if (is_tensor_rebuild(name)) {
      auto tensor = rebuild_tensor(*args);
      if (!tensor) return std::move(tensor).error();
      return push(std::move(*tensor));
    }
    if (is_parameter_rebuild(name)) {
      if (args->kind != Kind::tuple || args->items.empty() ||
          args->items[0]->kind != Kind::tensor) {
        return fail(name + " arguments do not start with a tensor");
      }
      return push(args->items[0]);
    }
    if (name == "collections.OrderedDict") return push(make(Kind::dict));
    auto object = make(Kind::object);
    object->text = name;
    object->items.push_back(args);
    return push(std::move(object));
  }

  Result<void> execute(unsigned char opcode) {
    switch (opcode) {
      case 0x80: {  // PROTO
        auto version = take_unsigned(1);
        if (!version) return std::move(version).error();
        return {};
      }
      case 0x95: {  // FRAME: a length hint only
        auto length = take_unsigned(8);
        if (!length) return std::move(length).error();
        return {};
      }
      case '(':
        if (marks_.size() >= limits_.max_stack) return fail("too many MARKs");
        marks_.push_back(stack_.size());
        return {};
      case 'N':
        return push(make(Kind::none));
      case 0x88:
      case 0x89: {  // NEWTRUE, NEWFALSE
        auto value = make(Kind::boolean);
        value->integer = opcode == 0x88 ? 1 : 0;
        return push(std::move(value));
      }
      case 'K':
      case 'M': {  // BININT1, BININT2
        auto value = take_unsigned(opcode == 'K' ? 1 : 2);
        if (!value) return std::move(value).error();
        return push_integer(static_cast<std::int64_t>(*value));
      }
      case 'J': {  // BININT: signed 32-bit
        auto value = take_unsigned(4);
        if (!value) return std::move(value).error();
        return push_integer(static_cast<std::int32_t>(static_cast<std::uint32_t>(*value)));
      }
      case 0x8a: {  // LONG1: little-endian two's complement of n bytes
        auto length = take_unsigned(1);
        if (!length) return std::move(length).error();
        if (*length > 8) return fail("integer wider than 64 bits");
        auto value = take_unsigned(static_cast<unsigned>(*length));
        if (!value) return std::move(value).error();
        std::uint64_t bits = *value;
        if (*length > 0 && *length < 8 && (bits >> (8 * *length - 1)) != 0) {
          bits |= ~std::uint64_t{0} << (8 * *length);  // sign-extend
        }
        return push_integer(static_cast<std::int64_t>(bits));
      }
      case 'G': {  // BINFLOAT: big-endian double
        auto bytes = take(8);
        if (!bytes) return std::move(bytes).error();
        std::uint64_t bits = 0;
        for (char byte : *bytes) bits = (bits << 8) | static_cast<unsigned char>(byte);
        auto value = make(Kind::floating);
        std::memcpy(&value->floating, &bits, sizeof bits);
        return push(std::move(value));
      }
      case 'X':
      case 0x8c:
      case 0x8d: {  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
        auto length = take_unsigned(opcode == 'X' ? 4 : opcode == 0x8c ? 1 : 8);
        if (!length) return std::move(length).error();
        return push_text(Kind::text, *length);
      }
      case 'C':
      case 'B': {  // SHORT_BINBYTES, BINBYTES
        auto length = take_unsigned(opcode == 'C' ? 1 : 4);
        if (!length) return std::move(length).error();
        return push_text(Kind::bytes, *length);
      }
      case ')':
        return push_tuple({});
      case 0x85:
        return push_last_as_tuple(1);
      case 0x86:
        return push_last_as_tuple(2);
      case 0x87:
        return push_last_as_tuple(3);
      case 't': {
        auto items = pop_to_mark();
        if (!items) return std::move(items).error();
        return push_tuple(std::move(*items));
      }
      case ']':
        return push(make(Kind::list));
      case 'l': {
        auto items = pop_to_mark();
        if (!items) return std::move(items).error();
        auto list = make(Kind::list);
        if (auto added = add_items(list, std::move(*items)); !added) return added;
        return push(std::move(list));
      }
      case 'a': {
        auto item = pop();
        if (!item) return std::move(item).error();
        auto list = top_of(Kind::list, "APPEND");
        if (!list) return std::move(list).error();
        return add_items(*list, {std::move(*item)});
      }
      case 'e': {
        auto items = pop_to_mark();
        if (!items) return std::move(items).error();
        auto list = top_of(Kind::list, "APPENDS");
        if (!list) return std::move(list).error();
        return add_items(*list, std::move(*items));
      }
      case '}':
        return push(make(Kind::dict));
      case 'd': {
        auto items = pop_to_mark();
        if (!items) return std::move(items).error();
        auto dict = make(Kind::dict);
        if (auto added = set_items(dict, std::move(*items)); !added) return added;
        return push(std::move(dict));
      }
      case 's': {
        auto value = pop();
        if (!value) return std::move(value).error();
        auto key = pop();
        if (!key) return std::move(key).error();
        auto dict = top_of(Kind::dict, "SETITEM");
        if (!dict) return std::move(dict).error();
        return set_items(*dict, {std::move(*key), std::move(*value)});
      }
      case 'u': {
        auto items = pop_to_mark();
        if (!items) return std::move(items).error();
        auto dict = top_of(Kind::dict, "SETITEMS");
        if (!dict) return std::move(dict).error();
        return set_items(*dict, std::move(*items));
      }
      case 'q':
      case 'r': {  // BINPUT, LONG_BINPUT
        auto index = take_unsigned(opcode == 'q' ? 1 : 4);
        if (!index) return std::move(index).error();
        return memo_put(*index);
      }
      case 0x94:
        return memo_put(memo_.size());  // MEMOIZE
      case 'h':
      case 'j': {  // BINGET, LONG_BINGET
        auto index = take_unsigned(opcode == 'h' ? 1 : 4);
        if (!index) return std::move(index).error();
        return memo_get(*index);
      }
      case 'c': {  // GLOBAL module\nname\n
        auto module = take_line();
        if (!module) return std::move(module).error();
        auto name = take_line();
        if (!name) return std::move(name).error();
        auto global = make(Kind::global);
        global->text = std::string(*module) + "." + std::string(*name);
        return push(std::move(global));
      }
      case 0x93: {  // STACK_GLOBAL
        auto name = pop();
        if (!name) return std::move(name).error();
        auto module = pop();
        if (!module) return std::move(module).error();
        if ((*module)->kind != Kind::text || (*name)->kind != Kind::text) {
          return fail("STACK_GLOBAL of something other than two strings");
        }
        auto global = make(Kind::global);
        global->text = (*module)->text + "." + (*name)->text;
        return push(std::move(global));
      }
      case 'Q': {  // BINPERSID
        auto id = pop();
        if (!id) return std::move(id).error();
        auto storage = persistent_storage(**id);
        if (!storage) return std::move(storage).error();
        return push(std::move(*storage));
      }
      case 'R':
      case 0x81: {  // REDUCE, NEWOBJ: callable, args
        auto args = pop();
        if (!args) return std::move(args).error();
        auto callable = pop();
        if (!callable) return std::move(callable).error();
        return reduce(*callable, *args);
      }
      case 'b': {  // BUILD: object state; kept for opaque objects, ignored otherwise
        auto state = pop();
        if (!state) return std::move(state).error();
        if (stack_.size() <= floor()) return fail("BUILD on nothing");
        if (stack_.back()->kind == Kind::object) stack_.back()->items.push_back(std::move(*state));
        return {};
      }
      case '0':
        return pop().has_value() ? Result<void>{} : fail("POP of nothing");
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        return fail(std::string("unsupported pickle opcode 0x") + kHex[opcode >> 4] +
                    kHex[opcode & 15]);
      }
    }
  }

  std::string_view data_;
  PickleLimits limits_;
  std::size_t position_ = 0;
  std::size_t opcode_offset_ = 0;
  std::vector<PickledValue*> stack_;
  std::vector<std::unique_ptr<PickledValue>> values_;
  std::vector<std::size_t> marks_;
  std::vector<PickledValue*> memo_;
};

std::string key_name(const PickledValue& key) {
  switch (key.kind) {
    case Kind::text:
      return key.text;
    case Kind::integer:
      return std::to_string(key.integer);
    default:
      return "?";
  }
}

std::string join(const std::string& prefix, const std::string& part) {
  return prefix.empty() ? part : prefix + "." + part;
}

class InventoryWalk {
 public:
  static constexpr int kMaxDepth = 128;

  PickleInventory take() && { return std::move(inventory_); }

  void visit(PickledPtr value, const std::string& name, int depth) {
    if (depth > kMaxDepth) return;
    if (value->kind == Kind::tensor) {
      inventory_.tensors.push_back({name.empty() ? "tensor" : name, value->tensor});
      return;
    }
    const bool container = value->kind == Kind::tuple || value->kind == Kind::list ||
                           value->kind == Kind::dict || value->kind == Kind::object;
    if (!container || !visited_.insert(value).second) return;
    if (value->kind == Kind::object && classes_.insert(value->text).second) {
      inventory_.python_classes.push_back(value->text);
    }
    for (std::size_t i = 0; i < value->items.size(); ++i) {
      visit(value->items[i],
            value->kind == Kind::object ? name : join(name, "[" + std::to_string(i) + "]"),
            depth + 1);
    }
    for (const auto& [key, item] : value->entries)
      visit(item, join(name, key_name(*key)), depth + 1);
  }

 private:
  PickleInventory inventory_;
  std::unordered_set<const PickledValue*> visited_;
  std::set<std::string> classes_;
};

}  // namespace

Result<PickledGraph> read_torch_save_pickle(std::string_view pickle, const PickleLimits& limits) {
  return PickleMachine(pickle, limits).run();
}

PickleInventory inventory(PickledPtr root) {
  InventoryWalk walk;
  walk.visit(root, "", 0);
  return std::move(walk).take();
}

Result<std::vector<TensorReference>> tensor_sequence(PickledPtr root) {
  if (root->kind == Kind::tensor) return std::vector<TensorReference>{root->tensor};
  if (root->kind != Kind::tuple && root->kind != Kind::list) {
    return Error::bad_input("expected a tensor or a list/tuple of tensors");
  }
  std::vector<TensorReference> tensors;
  for (std::size_t i = 0; i < root->items.size(); ++i) {
    if (root->items[i]->kind != Kind::tensor) {
      return Error::bad_input("item " + std::to_string(i) + " of the list is not a tensor");
    }
    tensors.push_back(root->items[i]->tensor);
  }
  return tensors;
}

}  // namespace smpack::harness
