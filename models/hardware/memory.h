// The memory model (issue 4): a die's DRAM stack (HBM) or SRAM as a capacity, a bandwidth and an
// energy per access, and an allocator that refuses what does not fit.
//
// Energy of an access of S bytes on a path = S * 8 * fJ/bit(path) + activations * rowActivation,
// all integer femtojoules, overflow-checked. Paths (Duplex / FGDRAM naming):
//   OffStack  cell -> bank datapath -> TSVs -> logic die -> PHY -> interposer -> host die
//   LogicDie  cell -> bank datapath -> TSVs -> compute on the stack's logic (base) die (Logic-PIM, NMP)
//   InBank    cell -> compute at the bank (bank-PIM)
// A streaming access of S bytes opens ceil(S / rowBytes) rows (rowActivations()); callers that know
// better (row hits, scattered reads) pass their own count.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/hardware/units.h"

namespace wafersim::hw {

enum class MemoryPath : uint8_t { OffStack, LogicDie, InBank };

const char* toString(MemoryPath p);

struct MemorySpec {
  std::string name;  // e.g. "HBM3 (H100)"
  Bytes capacity;
  Bandwidth bandwidth;
  EnergyPerBit offStack;
  EnergyPerBit logicDie;
  EnergyPerBit inBank;
  Energy rowActivation;  // per row activation (ACT)
  Bytes rowBytes;        // bytes per activated row; zero: activations not modelled

  EnergyPerBit energyPerBit(MemoryPath p) const;
  uint64_t rowActivations(Bytes bytes) const;  // ceil(bytes / rowBytes); 0 when rowBytes is zero
  // bytes * 8 * fJ/bit + activations * rowActivation, checked (Error{InvalidConfig} on overflow).
  Energy accessEnergy(MemoryPath p, Bytes bytes, uint64_t activations) const;
  // The streaming case: activations = rowActivations(bytes).
  Energy accessEnergy(MemoryPath p, Bytes bytes) const;
};

// Human rendering with decimal SI prefixes, rounded to at most two decimals: "2.1 GB", "80 GB",
// "512 B". For messages only (the exact byte count is always printed beside it).
std::string humanBytes(Bytes b);

// Capacity bookkeeping for one memory: allocate() refuses what does not fit with Error{InvalidConfig}
// naming the component, the item and the byte counts:
//   "die[3].hbm: KV cache of 2.1 GB (2100000000 B) does not fit: 79.5 GB (79500000000 B) of 80 GB
//    (80000000000 B) used"
class MemoryAllocator {
 public:
  struct Item {
    uint64_t id = 0;
    std::string what;
    Bytes bytes;
  };

  MemoryAllocator(std::string component, Bytes capacity);
  MemoryAllocator(std::string component, const MemorySpec& spec) : MemoryAllocator(std::move(component), spec.capacity) {}

  // Returns the allocation's id (for release). Zero-byte allocations are allowed.
  uint64_t allocate(const std::string& what, Bytes bytes);
  // Frees an allocation; an unknown id throws Error{InvalidConfig}.
  void release(uint64_t id);

  const std::string& component() const { return component_; }
  Bytes capacity() const { return capacity_; }
  Bytes used() const { return used_; }
  Bytes available() const { return Bytes{capacity_.value - used_.value}; }
  const std::vector<Item>& items() const { return items_; }  // live allocations, in allocation order

 private:
  std::string component_;
  Bytes capacity_;
  Bytes used_;
  uint64_t nextId_ = 1;
  std::vector<Item> items_;
};

}  // namespace wafersim::hw
