#include "protocol/convert.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include <capnp/any.h>

#include "protocol/curve_keys.h"
#include "sim/error.h"

namespace wafersim::proto {
namespace {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

// Payload bytes 8i..8i+7 as a little-endian word, whatever the host's byte order.
inline uint64_t loadPayloadWord(const Payload& p, size_t i) {
  uint64_t v;
  std::memcpy(&v, p.data() + 8 * i, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline void storePayloadWord(Payload& p, size_t i, uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p.data() + 8 * i, &v, 8);
}

inline std::string textToString(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }
inline capnp::Text::Reader toText(const std::string& s) { return capnp::Text::Reader(s.c_str(), s.size()); }

// A struct list whose elements occupy no words costs the sender nothing per element but the reader
// a C++ object each; Cap'n Proto's traversal limit bounds that, this refuses it outright (every
// struct of this schema has at least one field, so conforming senders never produce one).
template <typename StructList>
void requireSizedElements(StructList list, const char* what) {
  if (list.size() == 0) return;
  capnp::AnyStruct::Reader first = list[0];
  WAFERSIM_REQUIRE(first.getDataSection().size() + first.getPointerSection().size() > 0, what,
                   ": a list of zero-sized elements");
}

// WireEvent's wire layout (8 data words: time, order, seq, target|port|padding, p0..p3, all
// little-endian) is byte for byte the kernel's Event on a little-endian host, so a whole list of
// events is one memcpy each way. The padding bytes 30..31 are Event::reserved, which is not
// carried: it is zeroed on both sides. Anything else (a big-endian host, a list written with other
// element sizes by another schema version) takes the field-by-field path.
constexpr bool kEventsAreWireLayout =
    std::endian::native == std::endian::little && sizeof(wafersim::Event) == 64 &&
    offsetof(wafersim::Event, time) == 0 && offsetof(wafersim::Event, order) == 8 &&
    offsetof(wafersim::Event, seq) == 16 && offsetof(wafersim::Event, target) == 24 &&
    offsetof(wafersim::Event, port) == 28 && offsetof(wafersim::Event, reserved) == 30 &&
    offsetof(wafersim::Event, payload) == 32 && sizeof(SimTime) == 8 && WireEvent::_capnpPrivate::dataWordSize == 8 &&
    WireEvent::_capnpPrivate::pointerCount == 0;
constexpr size_t kReservedOffset = 30;

// The contiguous bytes of a struct list's n elements when each is exactly 64 data bytes and no
// pointers, else nullptr. Cap'n Proto has already bounds-checked the list as a whole.
template <typename StructList>
auto packedEvents(StructList list) -> decltype(capnp::toAny(list[0]).getDataSection().begin()) {
  unsigned n = list.size();
  if (n == 0) return nullptr;
  auto first = capnp::toAny(list[0]);
  auto last = capnp::toAny(list[n - 1]);
  auto data = first.getDataSection();
  if (data.size() != 64 || first.getPointerSection().size() != 0) return nullptr;
  if (last.getDataSection().begin() != data.begin() + 64 * static_cast<size_t>(n - 1)) return nullptr;
  return data.begin();
}

template <typename TextList>
void textListToWire(const std::vector<std::string>& in, TextList out) {
  for (unsigned i = 0; i < in.size(); ++i) out.set(i, toText(in[i]));
}

template <typename TextList>
void textListFromWire(TextList in, std::vector<std::string>& out) {
  out.clear();
  out.reserve(in.size());
  for (auto text : in) out.push_back(textToString(text));
}

void requireKind(Envelope::Reader in, Envelope::Which expected) {
  WAFERSIM_REQUIRE(in.which() == expected, "expected a ", kindName(expected), " message, got ",
                   kindName(in.which()));
}

}  // namespace

// ---- enums ------------------------------------------------------------------------------------

proto::SyncKind toWire(wafersim::SyncKind kind) {
  return kind == wafersim::SyncKind::Window ? proto::SyncKind::WINDOW : proto::SyncKind::NULL_MESSAGE;
}

proto::LookaheadMode toWire(wafersim::LookaheadMode mode) {
  return mode == wafersim::LookaheadMode::Links ? proto::LookaheadMode::LINKS : proto::LookaheadMode::MODEL;
}

proto::ErrorKind toWire(wafersim::ErrorKind kind) {
  switch (kind) {
    case wafersim::ErrorKind::InvalidConfig: return proto::ErrorKind::INVALID_CONFIG;
    case wafersim::ErrorKind::Overloaded: return proto::ErrorKind::OVERLOADED;
    case wafersim::ErrorKind::Disconnected: return proto::ErrorKind::DISCONNECTED;
    case wafersim::ErrorKind::Unimplemented: return proto::ErrorKind::UNIMPLEMENTED;
    case wafersim::ErrorKind::Internal: return proto::ErrorKind::INTERNAL;
  }
  return proto::ErrorKind::INTERNAL;
}

wafersim::SyncKind fromWire(proto::SyncKind kind) {
  switch (kind) {
    case proto::SyncKind::WINDOW: return wafersim::SyncKind::Window;
    case proto::SyncKind::NULL_MESSAGE: return wafersim::SyncKind::NullMessage;
  }
  fail(wafersim::ErrorKind::InvalidConfig, "unknown sync kind ", static_cast<unsigned>(kind));
}

wafersim::LookaheadMode fromWire(proto::LookaheadMode mode) {
  switch (mode) {
    case proto::LookaheadMode::LINKS: return wafersim::LookaheadMode::Links;
    case proto::LookaheadMode::MODEL: return wafersim::LookaheadMode::Model;
  }
  fail(wafersim::ErrorKind::InvalidConfig, "unknown lookahead mode ", static_cast<unsigned>(mode));
}

wafersim::ErrorKind fromWire(proto::ErrorKind kind) {
  switch (kind) {
    case proto::ErrorKind::INVALID_CONFIG: return wafersim::ErrorKind::InvalidConfig;
    case proto::ErrorKind::OVERLOADED: return wafersim::ErrorKind::Overloaded;
    case proto::ErrorKind::DISCONNECTED: return wafersim::ErrorKind::Disconnected;
    case proto::ErrorKind::UNIMPLEMENTED: return wafersim::ErrorKind::Unimplemented;
    case proto::ErrorKind::INTERNAL: return wafersim::ErrorKind::Internal;
  }
  return wafersim::ErrorKind::Internal;  // a failure from a newer peer is still a failure
}

// ---- parts ------------------------------------------------------------------------------------

void toWire(const wafersim::Event& in, WireEvent::Builder out) {
  out.setTime(in.time.ps());
  out.setOrder(in.order);
  out.setSeq(in.seq);
  out.setTarget(in.target);
  out.setPort(in.port);
  out.setP0(loadPayloadWord(in.payload, 0));
  out.setP1(loadPayloadWord(in.payload, 1));
  out.setP2(loadPayloadWord(in.payload, 2));
  out.setP3(loadPayloadWord(in.payload, 3));
}

void fromWire(WireEvent::Reader in, wafersim::Event& out) {
  out.time = SimTime::fromPs(in.getTime());
  out.order = in.getOrder();
  out.seq = in.getSeq();
  out.target = in.getTarget();
  out.port = in.getPort();
  out.reserved = 0;
  storePayloadWord(out.payload, 0, in.getP0());
  storePayloadWord(out.payload, 1, in.getP1());
  storePayloadWord(out.payload, 2, in.getP2());
  storePayloadWord(out.payload, 3, in.getP3());
}

void toWire(const wafersim::PeerReport& in, proto::PeerReport::Builder out) {
  out.setPeer(in.peer);
  out.setMinSent(in.minSent.ps());
  out.setPromise(in.promise.ps());
  out.setReaction(in.reaction.ps());
  out.setQuiet(in.quiet.ps());
}

void fromWire(proto::PeerReport::Reader in, wafersim::PeerReport& out) {
  out.peer = in.getPeer();
  out.minSent = SimTime::fromPs(in.getMinSent());
  out.promise = SimTime::fromPs(in.getPromise());
  out.reaction = Duration::fromPs(in.getReaction());
  out.quiet = SimTime::fromPs(in.getQuiet());
}

void toWire(const wafersim::RunOptions& in, proto::RunOptions::Builder out) {
  out.setSync(toWire(in.sync));
  out.setLookahead(toWire(in.lookahead));
  out.setEndTimePs(in.end.ps());
  out.setSeed(in.seed);
  out.setChecker(in.checker);
  out.setDigest(in.digest);
  out.setCheckpointDir(toText(in.checkpoint.dir));
  out.setCheckpointEveryPs(in.checkpoint.every.ps());
  out.setCheckpointFingerprint(in.checkpoint.fingerprint);
  out.setResumeFrom(toText(in.checkpoint.resumeFrom));
  out.setCheckpointEveryWallSeconds(in.checkpoint.everyWallSeconds);
  out.setCheckpointOnDemand(in.checkpoint.requested != nullptr);
}

void fromWire(proto::RunOptions::Reader in, wafersim::RunOptions& out) {
  out.sync = fromWire(in.getSync());
  out.lookahead = fromWire(in.getLookahead());
  out.end = SimTime::fromPs(in.getEndTimePs());
  out.seed = in.getSeed();
  out.checker = in.getChecker();
  out.digest = in.getDigest();
  out.checkpoint.dir = in.getCheckpointDir();
  out.checkpoint.every = Duration::fromPs(in.getCheckpointEveryPs());
  out.checkpoint.fingerprint = in.getCheckpointFingerprint();
  out.checkpoint.resumeFrom = in.getResumeFrom();
  out.checkpoint.everyWallSeconds = in.getCheckpointEveryWallSeconds();
}

void toWire(const wafersim::ComponentRecord& in, proto::ComponentRecord::Builder out) {
  out.setId(in.id);
  out.setName(toText(in.name));
  out.setType(toText(in.type));
  out.setEventDigest(in.eventDigest);
  out.setEventsCommitted(in.eventsCommitted);
  auto counters = out.initCounters(static_cast<unsigned>(in.counters.size()));
  unsigned i = 0;
  for (const auto& [name, value] : in.counters) {
    auto c = counters[i++];
    c.setName(toText(name));
    c.setValue(value);
  }
  auto histograms = out.initHistograms(static_cast<unsigned>(in.histograms.size()));
  i = 0;
  for (const auto& [name, h] : in.histograms) {
    auto w = histograms[i++];
    w.setName(toText(name));
    auto bounds = w.initBounds(static_cast<unsigned>(h.bounds.size()));
    for (unsigned k = 0; k < h.bounds.size(); ++k) bounds.set(k, h.bounds[k]);
    auto counts = w.initCounts(static_cast<unsigned>(h.counts.size()));
    for (unsigned k = 0; k < h.counts.size(); ++k) counts.set(k, h.counts[k]);
    w.setCount(h.count);
    w.setSum(h.sum);
    w.setMin(h.min);
    w.setMax(h.max);
  }
  auto tables = out.initTables(static_cast<unsigned>(in.tables.size()));
  i = 0;
  for (const auto& [name, t] : in.tables) {
    auto w = tables[i++];
    w.setName(toText(name));
    textListToWire(t.columns, w.initColumns(static_cast<unsigned>(t.columns.size())));
    auto values = w.initValues(static_cast<unsigned>(t.values.size()));
    for (unsigned k = 0; k < t.values.size(); ++k) values.set(k, t.values[k]);
    textListToWire(t.strings, w.initStrings(static_cast<unsigned>(t.strings.size())));
  }
}

void fromWire(proto::ComponentRecord::Reader in, wafersim::ComponentRecord& out) {
  out.id = in.getId();
  out.name = textToString(in.getName());
  out.type = textToString(in.getType());
  out.eventDigest = in.getEventDigest();
  out.eventsCommitted = in.getEventsCommitted();
  out.counters.clear();
  auto counters = in.getCounters();
  requireSizedElements(counters, "counters");
  for (auto c : counters) {
    bool inserted = out.counters.emplace(textToString(c.getName()), c.getValue()).second;
    WAFERSIM_REQUIRE(inserted, "component ", out.name, ": counter ", textToString(c.getName()), " twice");
  }
  out.histograms.clear();
  auto histograms = in.getHistograms();
  requireSizedElements(histograms, "histograms");
  for (auto w : histograms) {
    HistogramRecord h;
    auto bounds = w.getBounds();
    h.bounds.reserve(bounds.size());
    for (int64_t b : bounds) h.bounds.push_back(b);
    auto counts = w.getCounts();
    h.counts.reserve(counts.size());
    for (uint64_t c : counts) h.counts.push_back(c);
    h.count = w.getCount();
    h.sum = w.getSum();
    h.min = w.getMin();
    h.max = w.getMax();
    bool inserted = out.histograms.emplace(textToString(w.getName()), std::move(h)).second;
    WAFERSIM_REQUIRE(inserted, "component ", out.name, ": histogram ", textToString(w.getName()), " twice");
  }
  out.tables.clear();
  auto tables = in.getTables();
  requireSizedElements(tables, "tables");
  for (auto w : tables) {
    TableRecord t;
    for (auto c : w.getColumns()) t.columns.push_back(textToString(c));
    for (int64_t v : w.getValues()) t.values.push_back(v);
    for (auto text : w.getStrings()) t.strings.push_back(textToString(text));
    WAFERSIM_REQUIRE(!t.columns.empty() && t.values.size() % t.columns.size() == 0, "component ", out.name,
                     ": table ", textToString(w.getName()), " has ", t.values.size(), " values for ",
                     t.columns.size(), " columns");
    bool inserted = out.tables.emplace(textToString(w.getName()), std::move(t)).second;
    WAFERSIM_REQUIRE(inserted, "component ", out.name, ": table ", textToString(w.getName()), " twice");
  }
}

// ---- message bodies ---------------------------------------------------------------------------

void toWire(const HelloMessage& in, Hello::Builder out) {
  out.setProtocolVersion(in.protocolVersion);
  out.setNode(in.node);
  textListToWire(in.capabilities, out.initCapabilities(static_cast<unsigned>(in.capabilities.size())));
  out.setDataEndpoint(toText(in.dataEndpoint));
  out.setPid(in.pid);
  out.setHostname(toText(in.hostname));
  out.setName(toText(in.name));
  out.setCores(in.cores);
  out.setMemoryBytes(in.memoryBytes);
  out.setPool(in.pool);
  out.setMetricsUrl(in.metricsUrl);
  out.setCurveKey(in.curveKey);
}

void fromWire(Hello::Reader in, HelloMessage& out) {
  out.protocolVersion = in.getProtocolVersion();
  out.node = in.getNode();
  textListFromWire(in.getCapabilities(), out.capabilities);
  out.dataEndpoint = textToString(in.getDataEndpoint());
  out.pid = in.getPid();
  out.hostname = textToString(in.getHostname());
  out.name = textToString(in.getName());
  out.cores = in.getCores();
  out.memoryBytes = in.getMemoryBytes();
  out.pool = in.getPool();
  out.metricsUrl = textToString(in.getMetricsUrl());
  out.curveKey = textToString(in.getCurveKey());
  WAFERSIM_REQUIRE(out.curveKey.empty() || isZ85Key(out.curveKey), "hello: curveKey is not a 40-character Z85 key");
}

void toWire(const AssignMessage& in, Assign::Builder out) {
  out.setScenario(toText(in.scenario));
  textListToWire(in.overrides, out.initOverrides(static_cast<unsigned>(in.overrides.size())));
  out.setPartitionCount(in.partitionCount);
  out.setPartition(in.partition);
  auto map = out.initPartitionMap(static_cast<unsigned>(in.partitionMap.size()));
  for (unsigned i = 0; i < in.partitionMap.size(); ++i) map.set(i, in.partitionMap[i]);
  auto options = out.initOptions();
  toWire(in.options, options);
  options.setCheckpointOnDemand(in.checkpointOnDemand || in.options.checkpoint.requested != nullptr);
  textListToWire(in.dataEndpoints, out.initDataEndpoints(static_cast<unsigned>(in.dataEndpoints.size())));
  out.setHeartbeatIntervalMs(in.heartbeatIntervalMs);
  out.setHeartbeatTimeoutMs(in.heartbeatTimeoutMs);
  textListToWire(in.dataKeys, out.initDataKeys(static_cast<unsigned>(in.dataKeys.size())));
  out.setPlacementKey(in.placementKey);
  auto hosted = out.initHosted(static_cast<unsigned>(in.hosted.size()));
  for (unsigned i = 0; i < in.hosted.size(); ++i) hosted.set(i, in.hosted[i]);
}

void fromWire(Assign::Reader in, AssignMessage& out) {
  out.scenario = textToString(in.getScenario());
  textListFromWire(in.getOverrides(), out.overrides);
  out.partitionCount = in.getPartitionCount();
  out.partition = in.getPartition();
  WAFERSIM_REQUIRE(out.partitionCount > 0, "assign: no partitions");
  WAFERSIM_REQUIRE(out.partition < out.partitionCount, "assign: partition ", out.partition, " of ",
                   out.partitionCount);
  auto map = in.getPartitionMap();
  out.partitionMap.clear();
  out.partitionMap.reserve(map.size());
  for (uint32_t p : map) {
    WAFERSIM_REQUIRE(p < out.partitionCount, "assign: component ", out.partitionMap.size(), " mapped to partition ",
                     p, " of ", out.partitionCount);
    out.partitionMap.push_back(p);
  }
  fromWire(in.getOptions(), out.options);
  out.checkpointOnDemand = in.getOptions().getCheckpointOnDemand();
  textListFromWire(in.getDataEndpoints(), out.dataEndpoints);
  WAFERSIM_REQUIRE(out.dataEndpoints.size() == out.partitionCount, "assign: ", out.dataEndpoints.size(),
                   " data endpoints for ", out.partitionCount, " partitions");
  out.heartbeatIntervalMs = in.getHeartbeatIntervalMs();
  out.heartbeatTimeoutMs = in.getHeartbeatTimeoutMs();
  textListFromWire(in.getDataKeys(), out.dataKeys);
  WAFERSIM_REQUIRE(out.dataKeys.empty() || out.dataKeys.size() == out.partitionCount, "assign: ", out.dataKeys.size(),
                   " data keys for ", out.partitionCount, " partitions");
  for (size_t k = 0; k < out.dataKeys.size(); ++k)
    WAFERSIM_REQUIRE(isZ85Key(out.dataKeys[k]), "assign: data key ", k, " is not a 40-character Z85 key");
  out.placementKey = textToString(in.getPlacementKey());
  WAFERSIM_REQUIRE(out.placementKey.empty() || isZ85Key(out.placementKey),
                   "assign: placementKey is not a 40-character Z85 key");
  out.hosted.clear();
  for (uint32_t p : in.getHosted()) {
    WAFERSIM_REQUIRE(p < out.partitionCount, "assign: hosts partition ", p, " of ", out.partitionCount);
    WAFERSIM_REQUIRE(out.hosted.empty() || p > out.hosted.back(), "assign: hosted partitions not ascending at ", p);
    out.hosted.push_back(p);
  }
  if (out.hosted.empty()) out.hosted.push_back(out.partition);
  WAFERSIM_REQUIRE(std::find(out.hosted.begin(), out.hosted.end(), out.partition) != out.hosted.end(),
                   "assign: partition ", out.partition, " is not among the hosted partitions");
  for (PartitionId p : out.hosted)
    WAFERSIM_REQUIRE(out.dataEndpoints[p] == out.dataEndpoints[out.partition], "assign: hosted partition ", p,
                     " has another data endpoint than partition ", out.partition);
}

void toWire(const ReadyMessage& in, Ready::Builder out) {
  out.setPartition(in.partition);
  out.setComponents(in.components);
}

void fromWire(Ready::Reader in, ReadyMessage& out) {
  out.partition = in.getPartition();
  out.components = in.getComponents();
}

void toWire(const wafersim::EventBatch& in, proto::EventBatch::Builder out) {
  out.setFrom(in.from);
  out.setTo(in.to);
  out.setRound(in.round);
  out.setBound(in.bound.ps());
  auto events = out.initEvents(static_cast<unsigned>(in.events.size()));
  if constexpr (kEventsAreWireLayout) {
    if (kj::byte* raw = packedEvents(events)) {
      std::memcpy(raw, in.events.data(), in.events.size() * sizeof(wafersim::Event));
      for (size_t i = 0; i < in.events.size(); ++i) std::memset(raw + 64 * i + kReservedOffset, 0, 2);
      return;
    }
  }
  for (unsigned i = 0; i < in.events.size(); ++i) toWire(in.events[i], events[i]);
}

void fromWire(proto::EventBatch::Reader in, wafersim::EventBatch& out) {
  out.from = in.getFrom();
  out.to = in.getTo();
  out.round = in.getRound();
  out.bound = SimTime::fromPs(in.getBound());
  auto events = in.getEvents();
  requireSizedElements(events, "events");
  out.events.resize(events.size());
  if constexpr (kEventsAreWireLayout) {
    if (const kj::byte* raw = packedEvents(events)) {
      std::memcpy(static_cast<void*>(out.events.data()), raw, out.events.size() * sizeof(wafersim::Event));
      for (auto& e : out.events) e.reserved = 0;
      return;
    }
  }
  for (unsigned i = 0; i < events.size(); ++i) fromWire(events[i], out.events[i]);
}

void toWire(const WindowReportMessage& in, proto::WindowReport::Builder out) {
  out.setFrom(in.from);
  out.setRound(in.round);
  out.setNextEvent(in.report.nextEvent.ps());
  out.setCounter(in.report.counter);
  auto peers = out.initPeers(static_cast<unsigned>(in.report.peers.size()));
  for (unsigned i = 0; i < in.report.peers.size(); ++i) toWire(in.report.peers[i], peers[i]);
}

void fromWire(proto::WindowReport::Reader in, WindowReportMessage& out) {
  out.from = in.getFrom();
  out.round = in.getRound();
  out.report.nextEvent = SimTime::fromPs(in.getNextEvent());
  out.report.counter = in.getCounter();
  auto peers = in.getPeers();
  requireSizedElements(peers, "peers");
  out.report.peers.resize(peers.size());
  for (unsigned i = 0; i < peers.size(); ++i) fromWire(peers[i], out.report.peers[i]);
}

void toWire(const HeartbeatMessage& in, Heartbeat::Builder out) {
  out.setSeq(in.seq);
  out.setWallTimeNs(in.wallTimeNs);
  out.setEvents(in.events);
  out.setSimulatedTimePs(in.simulatedTimePs);
  if (in.samples.empty()) return;
  auto samples = out.initSamples(static_cast<unsigned>(in.samples.size()));
  for (unsigned i = 0; i < in.samples.size(); ++i) {
    const wafersim::PartitionSample& s = in.samples[i];
    auto w = samples[i];
    w.setPartition(s.partition);
    w.setAtPs(s.atPs);
    w.setWallNs(s.wallNs);
    w.setFinal(s.final);
    auto energy = w.initEnergyPj(static_cast<unsigned>(s.energyPj.size()));
    unsigned k = 0;
    for (const auto& [name, v] : s.energyPj) {
      energy[k].setName(name);
      energy[k++].setValue(v);
    }
    w.setStaticMicrowatts(s.staticMicrowatts);
    w.setRequestsFinished(s.requestsFinished);
    w.setOutputTokens(s.outputTokens);
    w.setPrefillTokens(s.prefillTokens);
    w.setTrainSteps(s.trainSteps);
    w.setTrainedTokens(s.trainedTokens);
    w.setMigrationBytes(s.migrationBytes);
    w.setPlacements(s.placements);
    w.setExpertBusiestPs(s.expertBusiestPs);
    w.setExpertSumPs(s.expertSumPs);
    w.setExpertDies(s.expertDies);
    w.setHasHost(s.hasHost);
    w.setWaiting(s.waiting);
    w.setRunning(s.running);
    w.setKvTokens(s.kvTokens);
    w.setKvCapacity(s.kvCapacity);
    auto busy = w.initDieBusyPs(static_cast<unsigned>(s.dieBusyPs.size()));
    k = 0;
    for (const auto& [key, v] : s.dieBusyPs) {
      busy[k].setComponent(key.first);
      busy[k].setName(key.second);
      busy[k++].setValue(v);
    }
    auto links = w.initLinkBytes(static_cast<unsigned>(s.linkBytes.size()));
    k = 0;
    for (const auto& [key, v] : s.linkBytes) {
      links[k].setComponent(key.first);
      links[k].setIndex(key.second);
      links[k++].setValue(v);
    }
    auto hists = w.initHistograms(static_cast<unsigned>(s.histograms.size()));
    k = 0;
    for (const auto& [name, h] : s.histograms) {
      auto hw = hists[k++];
      hw.setName(name);
      auto bounds = hw.initBounds(static_cast<unsigned>(h.bounds.size()));
      for (unsigned j = 0; j < h.bounds.size(); ++j) bounds.set(j, h.bounds[j]);
      auto counts = hw.initCounts(static_cast<unsigned>(h.counts.size()));
      for (unsigned j = 0; j < h.counts.size(); ++j) counts.set(j, h.counts[j]);
      hw.setCount(h.count);
      hw.setSum(h.sum);
    }
  }
}

void fromWire(Heartbeat::Reader in, HeartbeatMessage& out) {
  out.seq = in.getSeq();
  out.wallTimeNs = in.getWallTimeNs();
  out.events = in.getEvents();
  out.simulatedTimePs = in.getSimulatedTimePs();
  constexpr unsigned kMaxSamples = 256, kMaxEntries = 1u << 16;
  WAFERSIM_REQUIRE(in.getSamples().size() <= kMaxSamples, "heartbeat: ", in.getSamples().size(),
                   " samples (at most ", kMaxSamples, ")");
  out.samples.clear();
  for (auto w : in.getSamples()) {
    wafersim::PartitionSample s;
    s.partition = w.getPartition();
    s.atPs = w.getAtPs();
    s.wallNs = w.getWallNs();
    s.final = w.getFinal();
    WAFERSIM_REQUIRE(s.atPs >= 0, "heartbeat: a sample at negative time ", s.atPs);
    WAFERSIM_REQUIRE(w.getEnergyPj().size() <= 64 && w.getDieBusyPs().size() <= kMaxEntries &&
                         w.getLinkBytes().size() <= kMaxEntries && w.getHistograms().size() <= 16,
                     "heartbeat: a sample with too many entries");
    for (auto e : w.getEnergyPj()) s.energyPj[textToString(e.getName())] = e.getValue();
    s.staticMicrowatts = w.getStaticMicrowatts();
    s.requestsFinished = w.getRequestsFinished();
    s.outputTokens = w.getOutputTokens();
    s.prefillTokens = w.getPrefillTokens();
    s.trainSteps = w.getTrainSteps();
    s.trainedTokens = w.getTrainedTokens();
    s.migrationBytes = w.getMigrationBytes();
    s.placements = w.getPlacements();
    s.expertBusiestPs = w.getExpertBusiestPs();
    s.expertSumPs = w.getExpertSumPs();
    s.expertDies = w.getExpertDies();
    s.hasHost = w.getHasHost();
    s.waiting = w.getWaiting();
    s.running = w.getRunning();
    s.kvTokens = w.getKvTokens();
    s.kvCapacity = w.getKvCapacity();
    for (auto b : w.getDieBusyPs()) s.dieBusyPs[{b.getComponent(), textToString(b.getName())}] = b.getValue();
    for (auto l : w.getLinkBytes()) s.linkBytes[{l.getComponent(), l.getIndex()}] = l.getValue();
    for (auto h : w.getHistograms()) {
      wafersim::PartitionSample::Hist hist;
      for (int64_t b : h.getBounds()) hist.bounds.push_back(b);
      for (uint64_t c : h.getCounts()) hist.counts.push_back(c);
      WAFERSIM_REQUIRE(hist.bounds.size() <= 4096 && hist.counts.size() == hist.bounds.size() + 1,
                       "heartbeat: histogram ", textToString(h.getName()), " has ", hist.counts.size(),
                       " counts for ", hist.bounds.size(), " bounds (want bounds + 1)");
      hist.count = h.getCount();
      hist.sum = h.getSum();
      s.histograms[textToString(h.getName())] = std::move(hist);
    }
    out.samples.push_back(std::move(s));
  }
}

void toWire(const QuiescenceMessage& in, Quiescence::Builder out) {
  out.setIdle(in.idle);
  out.setEventsSent(in.eventsSent);
  out.setEventsReceived(in.eventsReceived);
  out.setEpoch(in.epoch);
}

void fromWire(Quiescence::Reader in, QuiescenceMessage& out) {
  out.idle = in.getIdle();
  out.eventsSent = in.getEventsSent();
  out.eventsReceived = in.getEventsReceived();
  out.epoch = in.getEpoch();
}

void toWire(const TerminateMessage& in, Terminate::Builder out) { out.setEpoch(in.epoch); }

void fromWire(Terminate::Reader in, TerminateMessage& out) { out.epoch = in.getEpoch(); }

void toWire(const ResultsMessage& in, proto::Results::Builder out) {
  out.setPartition(in.report.id);
  out.setEvents(in.report.events);
  out.setSyncRounds(in.report.sync.rounds);
  out.setSyncBatchesSent(in.report.sync.batchesSent);
  out.setSyncNullMessages(in.report.sync.nullMessages);
  out.setSyncEventsSent(in.report.sync.eventsSent);
  out.setSyncWaitSeconds(in.report.sync.waitSeconds);
  out.setWallSeconds(in.report.wallSeconds);
  out.setPeakRssKiB(in.report.peakRssKiB);
  out.setCheckpointsWritten(in.report.checkpoint.written);
  out.setCheckpointBytes(in.report.checkpoint.bytes);
  out.setCheckpointSeconds(in.report.checkpoint.seconds);
  out.setLastEventTimePs(in.lastEventTime.ps());
  auto components = out.initComponents(static_cast<unsigned>(in.components.size()));
  for (unsigned i = 0; i < in.components.size(); ++i) toWire(in.components[i], components[i]);
}

void fromWire(proto::Results::Reader in, ResultsMessage& out) {
  out.report.id = in.getPartition();
  out.report.events = in.getEvents();
  out.report.sync.rounds = in.getSyncRounds();
  out.report.sync.batchesSent = in.getSyncBatchesSent();
  out.report.sync.nullMessages = in.getSyncNullMessages();
  out.report.sync.eventsSent = in.getSyncEventsSent();
  out.report.sync.waitSeconds = in.getSyncWaitSeconds();
  out.report.wallSeconds = in.getWallSeconds();
  out.report.peakRssKiB = in.getPeakRssKiB();
  out.report.checkpoint.written = in.getCheckpointsWritten();
  out.report.checkpoint.bytes = in.getCheckpointBytes();
  out.report.checkpoint.seconds = in.getCheckpointSeconds();
  out.lastEventTime = SimTime::fromPs(in.getLastEventTimePs());
  auto components = in.getComponents();
  requireSizedElements(components, "components");
  out.components.clear();
  out.components.resize(components.size());
  for (unsigned i = 0; i < components.size(); ++i) fromWire(components[i], out.components[i]);
}

void toWire(const FailureMessage& in, Failure::Builder out) {
  out.setKind(toWire(in.kind));
  out.setMessage(toText(in.message));
}

void fromWire(Failure::Reader in, FailureMessage& out) {
  out.kind = fromWire(in.getKind());
  out.message = textToString(in.getMessage());
}

void toWire(const AbortMessage& in, Abort::Builder out) { out.setReason(toText(in.reason)); }

void fromWire(Abort::Reader in, AbortMessage& out) { out.reason = textToString(in.getReason()); }

// ---- envelope level ---------------------------------------------------------------------------

void toWire(const HelloMessage& in, Envelope::Builder out) { toWire(in, out.initHello()); }
void toWire(const AssignMessage& in, Envelope::Builder out) { toWire(in, out.initAssign()); }
void toWire(const ReadyMessage& in, Envelope::Builder out) { toWire(in, out.initReady()); }
void toWire(const StartMessage&, Envelope::Builder out) { out.initStart(); }
void toWire(const wafersim::EventBatch& in, Envelope::Builder out) { toWire(in, out.initEventBatch()); }
void toWire(const WindowReportMessage& in, Envelope::Builder out) { toWire(in, out.initWindowReport()); }
void toWire(const HeartbeatMessage& in, Envelope::Builder out) { toWire(in, out.initHeartbeat()); }
void toWire(const QuiescenceMessage& in, Envelope::Builder out) { toWire(in, out.initQuiescence()); }
void toWire(const TerminateMessage& in, Envelope::Builder out) { toWire(in, out.initTerminate()); }
void toWire(const ResultsMessage& in, Envelope::Builder out) { toWire(in, out.initResults()); }
void toWire(const FailureMessage& in, Envelope::Builder out) { toWire(in, out.initFailure()); }
void toWire(const AbortMessage& in, Envelope::Builder out) { toWire(in, out.initAbort()); }
void toWire(const ShutdownMessage&, Envelope::Builder out) { out.initShutdown(); }
void toWire(const ReleaseMessage&, Envelope::Builder out) { out.initRelease(); }
void toWire(const CheckpointNowMessage&, Envelope::Builder out) { out.initCheckpointNow(); }

void fromWire(Envelope::Reader in, HelloMessage& out) {
  requireKind(in, Envelope::HELLO);
  fromWire(in.getHello(), out);
}
void fromWire(Envelope::Reader in, AssignMessage& out) {
  requireKind(in, Envelope::ASSIGN);
  fromWire(in.getAssign(), out);
}
void fromWire(Envelope::Reader in, ReadyMessage& out) {
  requireKind(in, Envelope::READY);
  fromWire(in.getReady(), out);
}
void fromWire(Envelope::Reader in, StartMessage&) { requireKind(in, Envelope::START); }
void fromWire(Envelope::Reader in, wafersim::EventBatch& out) {
  requireKind(in, Envelope::EVENT_BATCH);
  fromWire(in.getEventBatch(), out);
}
void fromWire(Envelope::Reader in, WindowReportMessage& out) {
  requireKind(in, Envelope::WINDOW_REPORT);
  fromWire(in.getWindowReport(), out);
}
void fromWire(Envelope::Reader in, HeartbeatMessage& out) {
  requireKind(in, Envelope::HEARTBEAT);
  fromWire(in.getHeartbeat(), out);
}
void fromWire(Envelope::Reader in, QuiescenceMessage& out) {
  requireKind(in, Envelope::QUIESCENCE);
  fromWire(in.getQuiescence(), out);
}
void fromWire(Envelope::Reader in, TerminateMessage& out) {
  requireKind(in, Envelope::TERMINATE);
  fromWire(in.getTerminate(), out);
}
void fromWire(Envelope::Reader in, ResultsMessage& out) {
  requireKind(in, Envelope::RESULTS);
  fromWire(in.getResults(), out);
}
void fromWire(Envelope::Reader in, FailureMessage& out) {
  requireKind(in, Envelope::FAILURE);
  fromWire(in.getFailure(), out);
}
void fromWire(Envelope::Reader in, AbortMessage& out) {
  requireKind(in, Envelope::ABORT);
  fromWire(in.getAbort(), out);
}
void fromWire(Envelope::Reader in, ShutdownMessage&) { requireKind(in, Envelope::SHUTDOWN); }
void fromWire(Envelope::Reader in, ReleaseMessage&) { requireKind(in, Envelope::RELEASE); }
void fromWire(Envelope::Reader in, CheckpointNowMessage&) { requireKind(in, Envelope::CHECKPOINT_NOW); }

}  // namespace wafersim::proto
