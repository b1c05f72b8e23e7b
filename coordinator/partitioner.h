// The coordinator's graph partitioner (ARCHITECTURE.md contract 4): which partition runs each
// component, with the load balance, the cut and the lookahead floor it leaves.
//
// Kinds:
//   metis        (default) METIS k-way / recursive bisection over the component graph, balancing
//                expectedLoad within ~3% and cutting the least traffic-weighted, latency-weighted
//                edge set. Deterministic: fixed seed, calls serialized (see partitioner.cc).
//                Without METIS in the build it degrades to a load-balanced contiguous split
//                (plan.method says which ran).
//   linear       contiguous id ranges of equal size (PartitionMap::linear).
//   round-robin  id modulo partitions (PartitionMap::roundRobin).
//   pinned       the user's own map, checked (size, range, no empty partition).
//
// Weights (metis):
//   vertex  = expectedLoad, scaled to integers (largest ~1e6, total kept below 2^30).
//   edge    = expectedTraffic * (L_ref / latency), L_ref = the largest positive latency of any
//             link or fabric, latency = the smaller of a link's two directions; so a link 100x
//             faster costs 100x more to cut: cut links are slow links, and the lookahead floor
//             (the minimum cut latency per peer) is as large as the graph allows. Scaled to
//             integers >= 1 with the total kept below 2^30 (METIS's idx_t is 32 bits here).
//   fabric  = the complete graph among its members with that weight per member pair; above
//             kFabricCompleteLimit members, a deterministic sparse stand-in (a ring plus
//             kFabricChords pseudo-random chords per member) whose edge weights are scaled so that
//             each member keeps its total incident weight.
//   zero latency: links and fabrics with a zero latency (either direction) are never cut:
//             their components are merged into one vertex before METIS runs (stronger than an
//             "infinite" weight). Linear, round-robin and pinned maps that cut one fail with
//             validatePartitioning's message naming the component and the port.
//
// Profile (simulation.partition_profile: RUN_DIR, `wafersim run --partition-profile RUN_DIR`): the
// weights come from a previous run of the same system instead of the model's estimates: vertex =
// the events each component committed (RUN_DIR/results.json), edge = the bytes each link carried
// (RUN_DIR/links.csv, both directions; links it does not list keep expectedTraffic, those it lists
// share the expectedTraffic they had in proportion to their bytes). The plan's load is then in
// measured events, and imbalanceWithoutProfile is what the model's weights would have left.
//
// Every plan is checked with validatePartitioning before it is returned. Errors are
// Error{InvalidConfig}: partitions == 0, more partitions than components (or than groups of
// components joined by zero-latency links), a bad pinned map, negative or non-finite weights.
//
// Cost: O(V + E + sum over fabrics of min(m^2, m * chords)) memory and METIS time; the pair count
// of a complete fabric is bounded by kFabricCompleteLimit^2 / 2 (~2M edges).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/event.h"
#include "sim/partition_map.h"
#include "sim/system_graph.h"
#include "scenario/scenario.h"
#include "sim/time.h"

namespace wafersim {



// Whether METIS was compiled in; without it PartitionerKind::Metis runs the fallback.
bool metisAvailable();

inline constexpr size_t kFabricCompleteLimit = 2000;
inline constexpr size_t kFabricChords = 3;

// One cut: a link whose ends lie in two partitions, or a fabric's member pairs between two
// partitions (one entry per fabric and unordered partition pair, partitionA < partitionB).
struct CutLink {
  enum class Kind { Link, Fabric };
  Kind kind = Kind::Link;
  size_t index = 0;  // into graph.links() or graph.fabrics()
  PartitionId partitionA = 0, partitionB = 0;
  ComponentId a = 0, b = 0;  // link: its ends (a in partitionA); fabric: unused
  Duration latencyAB, latencyBA;  // partitionA -> partitionB and back (fabric: its latency both ways)
  uint64_t pairs = 1;             // fabric: member pairs cut between the two partitions
  double traffic = 0;             // expectedTraffic crossing (fabric: per pair * pairs)
};

// The classic lookahead floor from partition `from` to partition `to`: the minimum latency of any
// cut link or fabric direction from -> to (Lookahead::minCutLatency of the kernel, LookaheadMode::Links).
struct PeerLookahead {
  PartitionId from = 0, to = 0;
  Duration floor;
};

// A previous run's measurements, as weights for the same graph (see "Profile" above).
struct PartitionProfile {
  std::string dir;
  std::vector<double> load;         // per component: events committed
  std::vector<double> linkTraffic;  // per graph link
};

// Reads RUN_DIR/results.json (and RUN_DIR/links.csv when present). Throws Error{InvalidConfig}
// naming the file and what is wrong: unreadable, not a results document, or a component of the
// graph it has no measurement for (a profile of another system).
PartitionProfile loadPartitionProfile(const std::string& dir, const SystemGraph& graph);

struct PartitionPlan {
  PartitionerKind kind = PartitionerKind::Metis;
  std::string method;               // what ran: "metis-kway", "metis-recursive", "single", "linear", ...
  PartitionMap map;
  std::vector<double> load;         // per partition: sum of expectedLoad
  std::vector<size_t> components;   // per partition: number of components
  double imbalance = 1.0;           // max load / mean load (1.0 with no load)
  std::vector<CutLink> cut;         // links in graph order, then fabrics
  double cutTraffic = 0;            // sum of cut[].traffic
  std::vector<PeerLookahead> lookahead;  // ordered pairs sharing a cut, sorted by (from, to)
  std::string profile;                   // the profile's run folder, "" without one
  double imbalanceWithoutProfile = 0;    // with a profile: the model-weighted plan's, in measured events
};

// `pinned` is required for (and only read by) PartitionerKind::Pinned: one partition per
// component id. Throws Error{InvalidConfig} on bad input (see the header comment).
// With `profile`, its weights replace the model's (metis) and the plan's load is in its events.
PartitionPlan partitionGraph(const SystemGraph& graph, uint32_t partitions, PartitionerKind kind,
                             const std::vector<PartitionId>* pinned = nullptr,
                             const PartitionProfile* profile = nullptr);

// The plan's loads, cut and lookahead for a map made elsewhere (after validatePartitioning).
PartitionPlan describePartitioning(const SystemGraph& graph, const PartitionMap& map,
                                   PartitionerKind kind = PartitionerKind::Pinned, std::string method = "given",
                                   const PartitionProfile* profile = nullptr);

// Hybrid nodes (`--nodes N` with more partitions than nodes): which node hosts each partition.
// Partitions are grouped so that the links between nodes (ZeroMQ, a window's round trip) are the
// fewest and the slowest, where a cut's tie is its traffic over its latency (the partitioner's edge
// weight): of a greedy grouping (a node starts from the partition least tied to those left and takes,
// one at a time, the one most tied to its own), contiguous id ranges and METIS k-way and recursive
// on the graph of partitions, the one that cuts the least tie between nodes. Every node hosts
// floor(P/N) or ceil(P/N) partitions (the greedy grouping: one more for r < P mod N; the others are
// kept only when so balanced). Deterministic (ties: the earlier candidate, the lowest id).
struct NodeLayout {
  std::vector<uint32_t> nodeOf;          // partition -> node
  size_t cutLinks = 0;                   // cut entries (plan.cut) between partitions of two nodes
  double cutTraffic = 0;                 // their expectedTraffic
  Duration lookaheadFloor = Duration::max();  // the least latency of any of them
};
NodeLayout layoutOnNodes(const PartitionPlan& plan, uint32_t nodes);

// partition.json (STYLE.md P14): the partition of every component by name, loads, imbalance,
// cut links and the per-pair lookahead floor in picoseconds.
nlohmann::json toJson(const PartitionPlan& plan, const SystemGraph& graph);

// Partitions the scenario's system as its simulation section says (a pinned map is read from
// partition_map: the "components" array of a partition.json, matched by component name; a
// partition_profile weights metis by that run's measurements).
PartitionPlan partitionScenario(const Scenario& scenario, const SystemGraph& graph);

}  // namespace wafersim
