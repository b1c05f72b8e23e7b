// Conversions between the placement library's types (placement/problem.h Problem,
// placement/placement.h Placement, placement/policy.h Decision) and the wire's PlacementRequest
// and PlacementReply (wafersim.capnp), with the same contract as convert.h: toWire never fails;
// fromWire reads untrusted data and throws (kj::Exception or Error{InvalidConfig}), which codec.h's
// tryRead turns into a counted Rejection, so processes only ever call
//     tryRead<PlacementRequestMessage>(decoded, rejects)
// and encode with Encoder::encode(sender, request) like every other kind.
//
// Round trips are exact: integers as they are, doubles as their IEEE bits, heatmaps (pair counts
// and the cross-token heatmap, layers x experts x experts) sparse as their nonzero cells.
//
// What fromWire checks, so that a policy run on a decoded Problem cannot index out of range and a
// hostile message cannot make the reader allocate much more than the frame it sent:
//  - every size against the limits below before anything is allocated from it;
//  - every per-die list has `dies` elements (or none where the type allows none: unusable, hops,
//    expertCapacityBytes, groupOf), group ids below dies, paths exactly dies x dies with offsets
//    ascending and link ids below the link count, a mesh's gridX x gridY == dies;
//  - the profile's and the current placement's shape matches the model and the fabric (a current
//    placement may be absent: 0 dies);
//  - heatmap cells in range, nonzero and strictly ascending (layer, a, b) (so no duplicates);
//  - placements: replica and shard counts consistent with the lists, dies in range, then
//    Placement::validate (parts add up to kWhole, no die twice); node maps in range;
//  - enumerants known, doubles finite (bandwidths > 0, rates and seconds >= 0), texts bounded,
//    option keys unique and non-empty.
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/messages.h"
#include "protocol/placement_messages.h"
#include "protocol/wafersim.capnp.h"

namespace wafersim::proto {

// Upper bounds on what a placement message may describe. Generous for real systems (a wafer of
// 1,024 dies; Kimi-K2's 61 x 384 experts has 9 M heatmap cells) and small enough that the largest
// acceptable message costs at most a few hundred MB to hold.
struct PlacementWireLimits {
  static constexpr uint32_t maxDies = 1024;
  static constexpr uint32_t maxLayers = 1024;
  static constexpr uint32_t maxExperts = 4096;
  static constexpr size_t maxExpertSlots = size_t{1} << 20;    // layers x experts
  static constexpr size_t maxHeatmapCells = size_t{1} << 24;   // layers x experts x experts, per heatmap
  static constexpr size_t maxLinks = size_t{1} << 20;
  static constexpr size_t maxPathLinks = size_t{1} << 24;      // summed over all dies x dies paths
  static constexpr size_t maxReplicas = size_t{1} << 22;       // summed over a placement's experts
  static constexpr size_t maxOptions = 256;
  static constexpr size_t maxNameBytes = 4096;                 // run id, policy name, option keys and values
  static constexpr size_t maxReasonBytes = 64 * 1024;
};

// ---- enums ------------------------------------------------------------------------------------
proto::PlacementSplit toWire(placement::Split split);
placement::Split fromWire(proto::PlacementSplit split);  // throws on an unknown enumerant
proto::PlacementOutcome toWire(DecisionOutcome outcome);
DecisionOutcome fromWire(proto::PlacementOutcome outcome);  // throws on an unknown enumerant

// ---- parts ------------------------------------------------------------------------------------
void toWire(const placement::Fabric& in, PlacementFabric::Builder out);
void fromWire(PlacementFabric::Reader in, placement::Fabric& out);
void toWire(const placement::ExpertShape& in, PlacementExpertShape::Builder out);
void fromWire(PlacementExpertShape::Reader in, placement::ExpertShape& out);
void toWire(const placement::LoadProfile& in, PlacementLoadProfile::Builder out);
void fromWire(PlacementLoadProfile::Reader in, placement::LoadProfile& out);
void toWire(const placement::Placement& in, PlacementMap::Builder out);
void fromWire(PlacementMap::Reader in, placement::Placement& out);  // structure + Placement::validate

// ---- message bodies ---------------------------------------------------------------------------
void toWire(const PlacementRequestMessage& in, PlacementRequest::Builder out);
// The same from the parts, without building a PlacementRequestMessage (a copy of the problem);
// `options` stands for problem.options.
void toWireRequest(const std::string& runId, uint64_t epoch, const std::string& policy, const Params& options,
                   const placement::Problem& problem, PlacementRequest::Builder out);
void fromWire(PlacementRequest::Reader in, PlacementRequestMessage& out);  // also the cross-checks above
void toWire(const PlacementReplyMessage& in, PlacementReply::Builder out);
void fromWire(PlacementReply::Reader in, PlacementReplyMessage& out);  // applied needs a placement

// ---- envelope level ---------------------------------------------------------------------------
void toWire(const PlacementRequestMessage& in, Envelope::Builder out);
void toWire(const PlacementReplyMessage& in, Envelope::Builder out);
void fromWire(Envelope::Reader in, PlacementRequestMessage& out);
void fromWire(Envelope::Reader in, PlacementReplyMessage& out);

}  // namespace wafersim::proto
