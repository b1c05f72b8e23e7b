#include "models/hardware/memory.h"

#include <algorithm>
#include <utility>

#include "sim/error.h"

namespace wafersim::hw {

const char* toString(MemoryPath p) {
  switch (p) {
    case MemoryPath::OffStack: return "off-stack";
    case MemoryPath::LogicDie: return "logic-die";
    case MemoryPath::InBank: return "in-bank";
  }
  return "?";
}

EnergyPerBit MemorySpec::energyPerBit(MemoryPath p) const {
  switch (p) {
    case MemoryPath::OffStack: return offStack;
    case MemoryPath::LogicDie: return logicDie;
    case MemoryPath::InBank: return inBank;
  }
  fail(ErrorKind::Internal, "unknown memory path ", static_cast<int>(p));
}

uint64_t MemorySpec::rowActivations(Bytes bytes) const {
  if (rowBytes.value == 0) return 0;
  return bytes.value / rowBytes.value + (bytes.value % rowBytes.value != 0 ? 1 : 0);
}

Energy MemorySpec::accessEnergy(MemoryPath p, Bytes bytes, uint64_t activations) const {
  uint64_t act = 0;
  WAFERSIM_REQUIRE(!__builtin_mul_overflow(activations, rowActivation.fj, &act), "memory ", name, ": energy of ",
                   activations, " row activations overflows 64-bit femtojoules");
  const Energy transfer = energyPerBit(p).of(bytes);
  uint64_t sum = 0;
  WAFERSIM_REQUIRE(!__builtin_add_overflow(transfer.fj, act, &sum), "memory ", name, ": access energy of ",
                   bytes.value, " B overflows 64-bit femtojoules");
  return Energy{sum};
}

Energy MemorySpec::accessEnergy(MemoryPath p, Bytes bytes) const {
  return accessEnergy(p, bytes, rowActivations(bytes));
}

std::string humanBytes(Bytes b) {
  static constexpr struct {
    uint64_t scale;
    const char* unit;
  } kUnits[] = {{1'000'000'000'000'000ull, "PB"}, {1'000'000'000'000ull, "TB"}, {1'000'000'000ull, "GB"},
                {1'000'000ull, "MB"},             {1'000ull, "kB"},             {1ull, "B"}};
  for (const auto& u : kUnits) {
    if (b.value < u.scale && u.scale != 1) continue;
    // hundredths of the unit, rounded half up (128-bit: no overflow)
    const unsigned __int128 h = (static_cast<unsigned __int128>(b.value) * 100 + u.scale / 2) / u.scale;
    const auto whole = static_cast<uint64_t>(h / 100);
    const auto frac = static_cast<unsigned>(h % 100);
    std::string s = std::to_string(whole);
    if (frac != 0) {
      s += '.';
      s += static_cast<char>('0' + frac / 10);
      if (frac % 10 != 0) s += static_cast<char>('0' + frac % 10);
    }
    return s + " " + u.unit;
  }
  return std::to_string(b.value) + " B";
}

MemoryAllocator::MemoryAllocator(std::string component, Bytes capacity)
    : component_(std::move(component)), capacity_(capacity) {}

uint64_t MemoryAllocator::allocate(const std::string& what, Bytes bytes) {
  WAFERSIM_REQUIRE(bytes.value <= available().value, component_, ": ", what, " of ", humanBytes(bytes), " (",
                   bytes.value, " B) does not fit: ", humanBytes(used_), " (", used_.value, " B) of ",
                   humanBytes(capacity_), " (", capacity_.value, " B) used");
  used_.value += bytes.value;
  items_.push_back(Item{nextId_, what, bytes});
  return nextId_++;
}

void MemoryAllocator::release(uint64_t id) {
  auto it = std::find_if(items_.begin(), items_.end(), [id](const Item& i) { return i.id == id; });
  WAFERSIM_REQUIRE(it != items_.end(), component_, ": release of unknown allocation ", id);
  used_.value -= it->bytes.value;
  items_.erase(it);
}

}  // namespace wafersim::hw
