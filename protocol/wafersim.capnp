@0xa9c9a86114ba0b71;
# Every message that crosses a process boundary between the coordinator, the node processes and
# the placement service (ARCHITECTURE.md contract 6). One ZeroMQ frame carries exactly one
# Envelope, serialized with capnp::messageToFlatArray's standard framing (segment table, then
# segments).
#
# Evolution rules: never change a field's type or ordinal; add members only with the next ordinal;
# renaming and reordering in source are safe. Bump Envelope.protocolVersion only for a change that
# old readers must refuse (codec.h kProtocolVersion). Times are int64 picoseconds (contract 1),
# never floating point; SimTime::never() travels as INT64_MAX (9223372036854775807).

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("wafersim::proto");

struct Envelope {
  protocolVersion @0 :UInt32;
  # The sender's protocol version; the codec rejects anything but its own (currently 1).

  sender @1 :UInt32;
  # The sending node's id (its partition in the run, or its rank before it has one), or 0xFFFFFFFF
  # for the coordinator.

  union {
    hello @2 :Hello;                 # node -> coordinator, first message after connecting
    assign @3 :Assign;               # coordinator -> node
    ready @4 :Ready;                 # node -> coordinator
    start @5 :Start;                 # coordinator -> node
    eventBatch @6 :EventBatch;       # node -> node
    windowReport @7 :WindowReport;   # node -> node (window strategy's collective)
    heartbeat @8 :Heartbeat;         # both ways
    quiescence @9 :Quiescence;       # node -> coordinator (null-message termination)
    terminate @10 :Terminate;        # coordinator -> node
    results @11 :Results;            # node -> coordinator
    failure @12 :Failure;            # node -> coordinator
    abort @13 :Abort;                # coordinator -> node
    shutdown @14 :Shutdown;          # coordinator -> node
    placementRequest @15 :PlacementRequest;  # node -> placement service
    placementReply @16 :PlacementReply;      # placement service -> node
    release @18 :Release;            # coordinator -> node: the run is over, wait for the next
    checkpointNow @19 :CheckpointNow;  # coordinator -> node: take a cut at the next window start
  }

  runId @17 :Text;
  # The run a control or data message belongs to (ARCHITECTURE.md contract 9); empty for messages
  # about the process itself (hello, heartbeat, shutdown). A node serves run after run: whatever
  # names another run than the one it is in is dropped and counted.
}

# ---- control: coordinator <-> node -----------------------------------------------------------

struct Hello {
  protocolVersion @0 :UInt32;
  # Repeated from the envelope so that a coordinator can log what a refused node speaks.

  node @1 :UInt32;
  # The node's id (rank), given to it on its command line.

  capabilities @2 :List(Text);
  # Free-form feature names, e.g. "sync.window", "sync.null".

  dataEndpoint @3 :Text;
  # The tcp endpoint the node's PULL socket for event batches is bound to ("tcp://10.0.0.5:41234").

  pid @4 :UInt32;
  hostname @5 :Text;

  name @6 :Text;
  # Unique in the pool: "node-<rank>" for a ranked node, "<hostname>-<pid>" otherwise; also the
  # node's ZeroMQ routing id.

  cores @7 :UInt32;
  memoryBytes @8 :UInt64;
  # Capacity, for the coordinator's node pool (informational: a node runs one partition at a time).

  pool @9 :Bool;
  # true: the node serves the pool until told to shut down, and registers again when it loses the
  # coordinator; false: a one-shot node that exits with its coordinator.

  metricsUrl @10 :Text;
  # "http://host:port" where the node serves /metrics, or empty (the coordinator lists it for
  # Prometheus's HTTP service discovery).

  curveKey @11 :Text;
  # The sender's CURVE public key (40 Z85 characters, protocol/curve_keys.h), or empty: it runs
  # without CURVE. A node's data socket and a placement service's socket serve with this key, so
  # that the coordinator can hand it to their clients (Assign). Public keys are not secret.
}

enum SyncKind {
  window @0;        # YAWNS/LBTS windows (sim/sync_strategy.h)
  nullMessage @1;   # Chandy-Misra-Bryant null messages
}

enum LookaheadMode {
  links @0;   # cut-link latencies alone
  model @1;   # plus what components promise (sim/lookahead.h)
}

struct RunOptions {
  # sim/simulation.h RunOptions; the defaults here are the kernel's.

  sync @0 :SyncKind = window;
  lookahead @1 :LookaheadMode = model;
  endTimePs @2 :Int64 = 9223372036854775807;
  # Commit events at times < end; INT64_MAX (never): until no event is left.

  seed @3 :UInt64 = 1;
  checker @4 :Bool = false;
  digest @5 :Bool = true;

  checkpointDir @6 :Text;
  # sim/checkpoint.h CheckpointOptions: the run's checkpoints folder (a path every node reaches:
  # on a cluster, the service's shared data folder); empty: no checkpoints.

  checkpointEveryPs @7 :Int64 = 0;
  # A cut every this much simulated time; 0: none.

  checkpointFingerprint @8 :UInt64 = 0;
  # The system's fingerprint (systemFingerprint): every part carries it, a resume checks it.

  resumeFrom @9 :Text;
  # A checkpoints folder whose latest cut the run resumes from; empty: the run starts anew.

  checkpointEveryWallSeconds @10 :Float64 = 0;
  # A cut every this much wall-clock time on partition 0; 0: none.

  checkpointOnDemand @11 :Bool = false;
  # Cuts are also taken when the coordinator asks (CheckpointNow; the node hosting partition 0
  # brings the request to the next window's collective).
}

struct Assign {
  scenario @0 :Text;
  # The scenario document (YAML or JSON) exactly as the user gave it.

  overrides @1 :List(Text);
  # "path=value" overrides applied on top of the scenario, in order.

  partitionCount @2 :UInt32;
  partition @3 :UInt32;
  # This node's partition id, < partitionCount.

  partitionMap @4 :List(UInt32);
  # Component id -> partition id, for every component of the system.

  options @5 :RunOptions;

  dataEndpoints @6 :List(Text);
  # Every node's event endpoint (Hello.dataEndpoint), indexed by partition id.

  heartbeatIntervalMs @7 :UInt32;
  heartbeatTimeoutMs @8 :UInt32;

  dataKeys @9 :List(Text);
  # With CURVE: every node's data-socket public key (Hello.curveKey), indexed by partition like
  # dataEndpoints; empty without CURVE. Each is 40 Z85 characters.

  placementKey @10 :Text;
  # With CURVE: the public key of the placement service the run's nodes ask (params.mapping.service),
  # or empty.

  hosted @11 :List(UInt32);
  # Every partition this node hosts (a hybrid node runs several on threads), ascending, `partition`
  # among them; empty: `partition` alone. Partitions hosted by one node share its data endpoint.
}

struct Ready {
  # The node has built its partition and is waiting for Start.

  partition @0 :UInt32;
  components @1 :UInt32;
  # How many components the partition holds.
}

struct Start {
  # Begin the run (set-up phases included).
}

struct Heartbeat {
  seq @0 :UInt64;
  # Per-sender counter, starting at 0.

  wallTimeNs @1 :Int64;
  # The sender's system clock, nanoseconds since the Unix epoch (diagnostics only).

  events @2 :UInt64;
  simulatedTimePs @3 :Int64;
  # A node in a run (Envelope.runId): its partition's progress so far, events committed and the
  # latest committed event time (sim/run_progress.h RunProgress). Observing only.

  samples @4 :List(PartitionSample);
  # A node in a run: the model samples its partition took since its last heartbeat (at most 256,
  # the oldest dropped), for the coordinator's metrics and live view (sim/observer.h).
}

struct PartitionSample {
  partition @0 :UInt32;
  atPs @1 :Int64;
  wallNs @2 :Int64;
  final @3 :Bool;
  energyPj @4 :List(NamedValue);
  staticMicrowatts @5 :Float64;
  requestsFinished @6 :Float64;
  outputTokens @7 :Float64;
  prefillTokens @8 :Float64;
  trainSteps @9 :Float64;
  trainedTokens @10 :Float64;
  migrationBytes @11 :Float64;
  placements @12 :Float64;
  expertBusiestPs @13 :Float64;
  expertSumPs @14 :Float64;
  expertDies @15 :Float64;
  hasHost @16 :Bool;
  waiting @17 :Float64;
  running @18 :Float64;
  kvTokens @19 :Float64;
  kvCapacity @20 :Float64;
  dieBusyPs @21 :List(KeyedValue);   # component, engine name, value
  linkBytes @22 :List(KeyedValue);   # component (router), index (port), value
  histograms @23 :List(SampleHistogram);
}

struct NamedValue {
  name @0 :Text;
  value @1 :Float64;
}

struct KeyedValue {
  component @0 :UInt32;
  name @1 :Text;
  index @2 :UInt32;
  value @3 :Float64;
}

struct SampleHistogram {
  name @0 :Text;
  bounds @1 :List(Int64);
  counts @2 :List(UInt64);
  count @3 :UInt64;
  sum @4 :Int64;
}

struct Quiescence {
  # Null-message termination: a partition's counters, reported whenever it becomes idle or busy.
  # The coordinator declares quiescence when every partition is idle in the same epoch and the
  # sums of eventsSent and eventsReceived agree.

  idle @0 :Bool;
  eventsSent @1 :UInt64;
  # Events sent to other partitions since the start of the run.

  eventsReceived @2 :UInt64;
  epoch @3 :UInt64;
}

struct Terminate {
  # Quiescence was reached: stop the run and send Results.

  epoch @0 :UInt64;
  # The Quiescence epoch that was found quiescent.
}

struct NamedCounter {
  name @0 :Text;
  value @1 :UInt64;
}

struct NamedHistogram {
  # sim/results.h HistogramRecord.

  name @0 :Text;
  bounds @1 :List(Int64);
  counts @2 :List(UInt64);
  count @3 :UInt64;
  sum @4 :Int64;
  min @5 :Int64;
  max @6 :Int64;
}

struct ComponentRecord {
  # sim/results.h ComponentRecord; counters and histograms sorted by name, names unique.

  id @0 :UInt32;
  name @1 :Text;
  type @2 :Text;
  eventDigest @3 :UInt64;
  eventsCommitted @4 :UInt64;
  counters @5 :List(NamedCounter);
  histograms @6 :List(NamedHistogram);
  tables @7 :List(NamedTable);
}

struct NamedTable {
  # sim/statistics.h Table: row-major integers, values.size() a multiple of columns.size().
  name @0 :Text;
  columns @1 :List(Text);
  values @2 :List(Int64);
  strings @3 :List(Text);
  # Text cells: a cell holds an index into this list (sim/statistics.h Table::text).
}

struct Results {
  # One partition's share of the results document, plus its PartitionReport.

  partition @0 :UInt32;
  events @1 :UInt64;

  syncRounds @2 :UInt64;
  syncBatchesSent @3 :UInt64;
  syncNullMessages @4 :UInt64;
  syncEventsSent @5 :UInt64;
  syncWaitSeconds @6 :Float64;
  # Wall-clock diagnostics, never part of a result's digest.

  wallSeconds @7 :Float64;

  lastEventTimePs @8 :Int64;
  # The latest time of an event the partition committed.

  components @9 :List(ComponentRecord);

  peakRssKiB @10 :UInt64;
  # The node process's peak resident memory so far (getrusage), in KiB: a diagnostic.

  checkpointsWritten @11 :UInt64;
  checkpointBytes @12 :UInt64;
  checkpointSeconds @13 :Float64;
  # The partition's checkpoint parts: how many, their size, the wall time spent writing them.
}

enum ErrorKind {
  # sim/error.h ErrorKind.

  invalidConfig @0;
  overloaded @1;
  disconnected @2;
  unimplemented @3;
  internal @4;
}

struct Failure {
  kind @0 :ErrorKind;
  message @1 :Text;
}

struct Abort {
  reason @0 :Text;
}

struct Shutdown {
  # Exit cleanly; nothing more will be sent.
}

struct CheckpointNow {
  # POST /api/v1/runs/{id}/checkpoint: a cut of the run at its next window start, into its
  # checkpoints folder. Sent to every node of the run; the one hosting partition 0 acts on it.
}

struct Release {
  # The run named in the envelope is over on every node (done, or aborted): free what it holds and
  # wait for the next assignment.
}

# ---- data: node <-> node ---------------------------------------------------------------------

struct WireEvent {
  # sim/event.h Event, pointer-free (8 data words, the same 64 bytes as the kernel's Event).

  time @0 :Int64;
  order @1 :UInt64;
  seq @2 :UInt64;
  target @3 :UInt32;
  port @4 :UInt16;
  p0 @5 :UInt64;
  # The 32 payload bytes as four little-endian words: p0 holds bytes 0..7.

  p1 @6 :UInt64;
  p2 @7 :UInt64;
  p3 @8 :UInt64;
}

struct EventBatch {
  # sim/transport.h EventBatch.

  from @0 :UInt32;
  round @1 :UInt64;
  bound @2 :Int64;
  # Null messages: the sender sends nothing earlier than this from now on.

  events @3 :List(WireEvent);

  to @4 :UInt32;
  # The receiving partition (a node's data socket serves every partition it hosts).
}

struct PeerReport {
  peer @0 :UInt32;
  minSent @1 :Int64;
  promise @2 :Int64;
  reaction @3 :Int64;
  # A Duration in picoseconds.
  quiet @4 :Int64;
  # sim/lookahead.h: no output caused by what is pending in the sender now before this.
}

struct WindowReport {
  # sim/transport.h WindowReport, with the sender and the round of the collective.

  from @0 :UInt32;
  round @1 :UInt64;
  nextEvent @2 :Int64;
  counter @3 :UInt64;
  peers @4 :List(PeerReport);
}

# ---- placement: node <-> placement service (placement/placement_service.h) --------------------
#
# A node asks at an epoch boundary of simulated time (contract 5) with everything the policy
# decides from (placement/problem.h Problem); the service answers every asker of one (runId, epoch)
# with the one reply it recorded, so that node processes agree even when a wall-clock deadline
# fires. Bandwidths, FLOP rates and seconds are Float64: they are model parameters and estimates,
# never event times. Lists indexed by die, layer or expert must have exactly that many elements
# (placement_convert.h lists the checks and the size limits).

struct PlacementOption {
  key @0 :Text;
  value @1 :Text;
}

struct PlacementFabric {
  # placement/problem.h Fabric.

  dies @0 :UInt32;
  unusable @1 :List(Bool);               # per die, or empty: every die usable
  hops @2 :List(UInt32);                 # dies x dies, row-major, or empty: 1 between distinct dies
  linkBandwidth @3 :List(Float64);       # per directed link, bytes/s
  pathLinks @4 :List(UInt32);            # every path's link ids, paths in (source, destination) order
  pathOffsets @5 :List(UInt32);          # dies x dies + 1: path i is pathLinks[offsets[i] .. offsets[i+1])
  expertFlops @6 :List(Float64);         # per die, FLOP/s
  memoryBandwidth @7 :List(Float64);     # per die, bytes/s
  expertCapacityBytes @8 :List(UInt64);  # per die, or empty: unbounded
  gridX @9 :UInt32;
  gridY @10 :UInt32;
  groupOf @11 :List(UInt32);             # per die, or empty
}

struct PlacementExpertShape {
  # placement/problem.h ExpertShape.

  layers @0 :UInt32;
  experts @1 :UInt32;
  topK @2 :UInt32;
  hidden @3 :UInt64;
  intermediate @4 :UInt64;
  gated @5 :Bool;
  expertBytes @6 :UInt64;
  activationBytes @7 :UInt32;
}

struct PlacementPairCount {
  # One nonzero cell of a layers x experts x experts heatmap.

  layer @0 :UInt32;
  a @1 :UInt32;
  b @2 :UInt32;
  count @3 :UInt32;
}

struct PlacementLoadProfile {
  # placement/problem.h LoadProfile: the counts only (not the cross-token memory of the last
  # tokens, which only matters to whoever keeps recording).

  layers @0 :UInt32;
  experts @1 :UInt32;
  dies @2 :UInt32;
  tokens @3 :List(UInt64);        # per layer
  loads @4 :List(UInt64);         # layers x experts, row-major
  sourceTokens @5 :List(UInt64);  # per die
  hasPairs @6 :Bool;
  pairs @7 :List(PlacementPairCount);
  # Nonzero cells only, in strictly ascending (layer, a, b) order.

  hasNext @8 :Bool;
  next @9 :List(PlacementPairCount);
  # Likewise.
}

enum PlacementSplit {
  even @0;
  leastLoaded @1;
  nearest @2;
}

struct PlacementShard {
  die @0 :UInt32;
  parts @1 :UInt32;                   # of 65536 (placement/placement.h kWhole)
  engine @2 :UInt32 = 4294967295;     # kDefaultEngine: the scenario's expert engine
}

struct PlacementMap {
  # placement/placement.h Placement, flattened: experts in (layer, expert) order, each with
  # replicaCounts[i] replicas; replicas in that order, each with shardCounts[j] shards; shards in
  # that order. dies = layers = experts = 0 with empty lists: no placement.

  dies @0 :UInt32;
  layers @1 :UInt32;
  experts @2 :UInt32;
  split @3 :PlacementSplit;
  nodeMap @4 :List(UInt32);           # logical node -> die, or empty
  replicaCounts @5 :List(UInt32);     # layers x experts
  shardCounts @6 :List(UInt32);       # one per replica
  shards @7 :List(PlacementShard);    # one per shard
}

struct PlacementRequest {
  runId @0 :Text;
  epoch @1 :UInt64;
  # (runId, epoch) names the question: every node of a run asks the same one.

  policy @2 :Text;                    # a name of placement/policy.h policyTypes()
  options @3 :List(PlacementOption);  # the policy's options as given (the service resolves them)
  seed @4 :UInt64;
  fabric @5 :PlacementFabric;
  model @6 :PlacementExpertShape;
  profile @7 :PlacementLoadProfile;
  attentionSeconds @8 :Float64;
  tokensPerStep @9 :UInt64;
  current @10 :PlacementMap;          # the placement in force
}

enum PlacementOutcome {
  applied @0;  # placement holds the new mapping
  kept @1;     # the policy failed or ran out of time: the mapping in force stays
}

struct PlacementReply {
  runId @0 :Text;
  epoch @1 :UInt64;
  outcome @2 :PlacementOutcome;
  reason @3 :Text;                    # the policy's reason, or why the mapping was kept
  placement @4 :PlacementMap;         # when applied
  predictedGain @5 :Float64;
  optimalityGap @6 :Float64 = -1;
  decisionMicros @7 :UInt64;
  # Wall-clock time of the decision: diagnostics only, never used by the simulation.
}
