// Builders for the weight-file tests: pickles opcode by opcode, zips with every
// header field under control, safetensors files. All produce bytes in memory.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_support.h"

namespace smpack::testing {

inline void put_le(std::string& out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

class PickleBuilder {
 public:
  PickleBuilder& op(unsigned char code) { return raw(std::string(1, static_cast<char>(code))); }
  PickleBuilder& raw(std::string_view bytes) {
    bytes_ += bytes;
    return *this;
  }
  PickleBuilder& proto(int version) { return op(0x80).op(static_cast<unsigned char>(version)); }
  PickleBuilder& global(std::string_view module, std::string_view name) {
    return op('c').raw(module).raw("\n").raw(name).raw("\n");
  }
  PickleBuilder& unicode(std::string_view text) {  // BINUNICODE
    op('X');
    put_le(bytes_, text.size(), 4);
    return raw(text);
  }
  PickleBuilder& short_unicode(std::string_view text) {  // SHORT_BINUNICODE
    op(0x8c);
    put_le(bytes_, text.size(), 1);
    return raw(text);
  }
  PickleBuilder& int1(int value) { return op('K').op(static_cast<unsigned char>(value)); }
  PickleBuilder& put(int index) { return op('q').op(static_cast<unsigned char>(index)); }
  PickleBuilder& get(int index) { return op('h').op(static_cast<unsigned char>(index)); }
  PickleBuilder& mark() { return op('('); }
  PickleBuilder& tuple() { return op('t'); }
  PickleBuilder& tuple1() { return op(0x85); }
  PickleBuilder& tuple2() { return op(0x86); }
  PickleBuilder& empty_tuple() { return op(')'); }
  PickleBuilder& empty_dict() { return op('}'); }
  PickleBuilder& empty_list() { return op(']'); }
  PickleBuilder& reduce() { return op('R'); }
  PickleBuilder& stack_global() { return op(0x93); }
  PickleBuilder& memoize() { return op(0x94); }
  PickleBuilder& pop() { return op('0'); }
  PickleBuilder& none() { return op('N'); }
  PickleBuilder& newfalse() { return op(0x89); }
  PickleBuilder& setitem() { return op('s'); }
  PickleBuilder& setitems() { return op('u'); }
  PickleBuilder& append() { return op('a'); }
  PickleBuilder& binpersid() { return op('Q'); }
  PickleBuilder& stop() { return op('.'); }
  // torch's ('storage', torch.<type>, key, 'cpu', numel) persistent id, then
  // _rebuild_tensor_v2(storage, 0, shape, stride, False, OrderedDict()).
  PickleBuilder& torch_tensor(std::string_view storage_type, std::string_view key,
                              const std::vector<int>& shape) {
    int numel = 1;
    for (int dim : shape) numel *= dim;
    global("torch._utils", "_rebuild_tensor_v2").mark();
    mark().unicode("storage").global("torch", storage_type).unicode(key).unicode("cpu");
    int1(numel).tuple().binpersid().int1(0);
    mark();
    for (int dim : shape) int1(dim);
    tuple().mark();
    for (std::size_t i = 0; i < shape.size(); ++i) int1(1);
    tuple().newfalse().global("collections", "OrderedDict").empty_tuple().reduce();
    return tuple().reduce();
  }
  const std::string& str() const { return bytes_; }
  std::span<const std::byte> bytes() const { return as_bytes_of(bytes_); }

 private:
  std::string bytes_;
};

// A state dict {name: tensor} of float32 tensors stored under keys "0", "1", ...
inline std::string state_dict_pickle(
    const std::vector<std::pair<std::string, std::vector<int>>>& tensors) {
  PickleBuilder pickle;
  pickle.proto(2).global("collections", "OrderedDict").empty_tuple().reduce().mark();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    pickle.unicode(tensors[i].first)
        .torch_tensor("FloatStorage", std::to_string(i), tensors[i].second);
  }
  return pickle.setitems().stop().str();
}

struct ZipMember {
  ZipMember(std::string member_name, std::string member_data)
      : name(std::move(member_name)), data(std::move(member_data)) {}
  ZipMember& deflated() { return deflate = true, *this; }
  ZipMember& with_local_name(std::string other) { return local_name = std::move(other), *this; }
  ZipMember& with_flags(std::uint16_t value) { return flags = value, *this; }
  ZipMember& with_crc(std::uint32_t value) { return crc = value, *this; }
  ZipMember& at_offset(std::uint64_t value) { return central_offset = value, *this; }

  std::string name;
  std::string data;
  bool deflate = false;
  std::string local_name;  // empty: same as name
  std::uint16_t flags = 0;
  std::optional<std::uint32_t> crc;             // CRC written instead of the real one
  std::optional<std::uint64_t> central_offset;  // local header offset the directory claims
};

inline std::string deflate_raw(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())) + 16, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// Writes local headers + data, a central directory and an end record; zip64 adds the
// zip64 end record and locator and marks the 32-bit fields 0xFFFFFFFF.
inline std::string build_zip(const std::vector<ZipMember>& members, bool zip64 = false) {
  std::string out;
  std::string central;
  for (const ZipMember& member : members) {
    std::string stored = member.deflate ? deflate_raw(member.data) : member.data;
    auto crc =
        static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(member.data.data()),
                                         static_cast<uInt>(member.data.size())));
    if (member.crc) crc = *member.crc;
    std::uint64_t offset = out.size();
    const std::string& local_name = member.local_name.empty() ? member.name : member.local_name;
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2);
    put_le(out, member.flags, 2);
    put_le(out, member.deflate ? 8 : 0, 2);
    put_le(out, 0, 4);
    put_le(out, crc, 4);
    put_le(out, stored.size(), 4);
    put_le(out, member.data.size(), 4);
    put_le(out, local_name.size(), 2);
    put_le(out, 0, 2);
    out += local_name + stored;
    std::string extra;
    if (zip64) {
      put_le(extra, 0x0001, 2);
      put_le(extra, 24, 2);
      put_le(extra, member.data.size(), 8);
      put_le(extra, stored.size(), 8);
      put_le(extra, member.central_offset.value_or(offset), 8);
    }
    put_le(central, 0x02014b50, 4);
    put_le(central, 45, 2);
    put_le(central, 45, 2);
    put_le(central, member.flags, 2);
    put_le(central, member.deflate ? 8 : 0, 2);
    put_le(central, 0, 4);
    put_le(central, crc, 4);
    put_le(central, zip64 ? 0xFFFFFFFF : stored.size(), 4);
    put_le(central, zip64 ? 0xFFFFFFFF : member.data.size(), 4);
    put_le(central, member.name.size(), 2);
    put_le(central, extra.size(), 2);
    put_le(central, 0, 2);
    put_le(central, 0, 2);
    put_le(central, 0, 2);
    put_le(central, 0, 4);
    put_le(central, zip64 ? 0xFFFFFFFF : member.central_offset.value_or(offset), 4);
    central += member.name + extra;
  }
  std::uint64_t central_offset = out.size();
  out += central;
  if (zip64) {
    std::uint64_t record_offset = out.size();
    put_le(out, 0x06064b50, 4);
    put_le(out, 44, 8);
    put_le(out, 45, 2);
    put_le(out, 45, 2);
    put_le(out, 0, 4);
    put_le(out, 0, 4);
    put_le(out, members.size(), 8);
    put_le(out, members.size(), 8);
    put_le(out, central.size(), 8);
    put_le(out, central_offset, 8);
    put_le(out, 0x07064b50, 4);
    put_le(out, 0, 4);
    put_le(out, record_offset, 8);
    put_le(out, 1, 4);
  }
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 2);
  put_le(out, 0, 2);
  put_le(out, zip64 ? 0xFFFF : members.size(), 2);
  put_le(out, zip64 ? 0xFFFF : members.size(), 2);
  put_le(out, zip64 ? 0xFFFFFFFF : central.size(), 4);
  put_le(out, zip64 ? 0xFFFFFFFF : central_offset, 4);
  put_le(out, 0, 2);
  return out;
}

inline std::string safetensors_file(std::string_view header, std::size_t data_bytes) {
  std::string out;
  put_le(out, header.size(), 8);
  out += header;
  out.append(data_bytes, '\0');
  return out;
}

}  // namespace smpack::testing
