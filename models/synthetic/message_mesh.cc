#include "models/synthetic/message_mesh.h"

#include <string>

namespace wafersim::synthetic {
namespace {

class MeshNode final : public Component {
 public:
  explicit MeshNode(const ComponentContext& ctx) : Component(ctx), received_(counter("messages")) {}

  void setup() override {
    for (PortId p = 0; p < 4; ++p) send(p, Payload{});
  }

  // Stateless beyond what the kernel saves (its counter, its random stream).
  void save(StateWriter&) const override {}
  void restore(StateReader&) override {}

  void handle(const Event&) override {
    received_.add();
    send(static_cast<PortId>(random().below(4)), Payload{});
  }

 private:
  Counter& received_;
};

}  // namespace

void registerMessageMesh(ComponentRegistry& registry) {
  ComponentType t;
  t.name = "synthetic.MeshNode";
  t.help = "A MessageMesh node: forwards every message on a uniformly drawn one of its four links.";
  t.ports = {{"north", "link to the node above"},
             {"south", "link to the node below"},
             {"east", "link to the node on the right"},
             {"west", "link to the node on the left"}};
  t.factory = [](const ComponentContext& ctx) { return std::make_unique<MeshNode>(ctx); };
  t.checkpoint = true;
  registry.add(std::move(t));
}

SystemGraph buildMessageMesh(const MessageMeshConfig& c) {
  SystemGraph g;
  auto at = [&](uint32_t i, uint32_t j) { return static_cast<ComponentId>(j * c.x + i); };
  for (uint32_t j = 0; j < c.y; ++j)
    for (uint32_t i = 0; i < c.x; ++i)
      g.addComponent("node[" + std::to_string(i) + "," + std::to_string(j) + "]", "synthetic.MeshNode");
  for (uint32_t j = 0; j < c.y; ++j)
    for (uint32_t i = 0; i < c.x; ++i) {
      g.connect(at(i, j), "east", at((i + 1) % c.x, j), "west", c.latency);
      g.connect(at(i, j), "south", at(i, (j + 1) % c.y), "north", c.latency);
    }
  return g;
}

}  // namespace wafersim::synthetic
