// Test-only helpers for the kernel tests: a component whose behaviour is a set of hooks chosen per
// instance, a thread-safe log of what components saw, and a way to capture the Error a call throws.
//
// Components run on partition threads, so everything the hooks share goes through DeliveryLog or
// another synchronized object owned by the test, and outlives the run.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sim/component.h"
#include "sim/component_registry.h"
#include "sim/error.h"

namespace wafersim::testing {

// What a call threw: Error kind and message, or thrown == false.
struct Thrown {
  bool thrown = false;
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
};

template <typename F>
Thrown thrownBy(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {true, e.kind(), e.what()};
  }
  return {};
}

// One event (or init message) a component received.
struct Delivery {
  std::string component;
  int64_t ps = 0;  // now() when handled; 0 for init messages
  PortId port = 0;
  ComponentId source = 0;
  uint32_t priority = 0;
  uint64_t seq = 0;
  uint64_t value = 0;  // the payload read as a uint64_t
};

class DeliveryLog {
 public:
  void add(Delivery d) {
    std::lock_guard<std::mutex> lock(mutex_);
    all_.push_back(std::move(d));
  }
  std::vector<Delivery> all() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return all_;
  }
  std::vector<Delivery> of(const std::string& component) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Delivery> out;
    for (const auto& d : all_)
      if (d.component == component) out.push_back(d);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Delivery> all_;
};

class Scripted;

// The behaviour of one component instance; unset hooks do nothing.
struct Hooks {
  std::function<void(Scripted&)> construct;
  std::function<void(Scripted&, unsigned)> init;
  std::function<void(Scripted&, const Event&)> handleInit;
  std::function<void(Scripted&)> setup;
  std::function<void(Scripted&, const Event&)> handle;
  std::function<void(Scripted&)> finish;
  // A promise per port (Component::promisedOutputTimeOn); unset: the component-wide promise.
  std::function<SimTime(const Scripted&, PortId)> promiseOn;
};

// A component that runs its hooks and exposes the protected Component API to them.
class Scripted final : public Component {
 public:
  Scripted(const ComponentContext& ctx, Hooks hooks) : Component(ctx), hooks_(std::move(hooks)) {
    if (hooks_.construct) hooks_.construct(*this);
  }

  void init(unsigned phase) override {
    if (hooks_.init) hooks_.init(*this, phase);
  }
  void handleInit(const Event& e) override {
    if (hooks_.handleInit) hooks_.handleInit(*this, e);
  }
  void setup() override {
    if (hooks_.setup) hooks_.setup(*this);
  }
  void handle(const Event& e) override {
    if (hooks_.handle) hooks_.handle(*this, e);
  }
  void finish() override {
    if (hooks_.finish) hooks_.finish(*this);
  }
  SimTime promisedOutputTimeOn(PortId port) const override {
    return hooks_.promiseOn ? hooks_.promiseOn(*this, port) : promisedOutputTime();
  }

  using Component::counter;
  using Component::declareReactionDelay;
  using Component::fabricIndexOfSelf;
  using Component::fabricSize;
  using Component::histogram;
  using Component::now;
  using Component::port;
  using Component::promiseNoOutputBefore;
  using Component::random;
  using Component::scheduleSelf;
  using Component::send;
  using Component::sendInit;
  using Component::sendTo;

  // Records an event into `log` under this component's name.
  void record(DeliveryLog& log, const Event& e) const {
    log.add({name(), e.time.ps(), e.port, e.source(), e.priority(), e.seq, e.payload.as<uint64_t>()});
  }

 private:
  Hooks hooks_;
};

// Registers `type` with the given ports (each optional unless listed in `required`) and no
// parameters; each instance gets the hooks `hooksFor(instance name)` returns. `constructed`, when
// given, counts the instances built (to show that a refused configuration built nothing).
inline void registerScripted(ComponentRegistry& registry, const std::string& type, const std::vector<std::string>& ports,
                             std::function<Hooks(const std::string&)> hooksFor,
                             std::shared_ptr<std::atomic<int>> constructed = nullptr,
                             const std::vector<std::string>& required = {}) {
  ComponentType t;
  t.name = type;
  t.help = "test component";
  for (const auto& p : ports) {
    bool isRequired = false;
    for (const auto& r : required) isRequired = isRequired || r == p;
    t.ports.push_back({p, "test port", !isRequired});
  }
  t.factory = [hooksFor = std::move(hooksFor), constructed](const ComponentContext& ctx) {
    if (constructed) ++*constructed;
    return std::make_unique<Scripted>(ctx, hooksFor(ctx.name));
  };
  registry.add(std::move(t));
}

inline Payload value(uint64_t v) { return Payload::of(v); }

}  // namespace wafersim::testing
