// HD-MoE NodeBalance (Huang et al., "HD-MoE: Hybrid and Dynamic Parallelism for Mixture-of-Expert
// LLMs with 3D Near-Memory Processing", ICCAD 2025, arXiv 2509.09420; research/seeds.md 2.4 step 2):
// per MoE layer, a MILP over the fraction P[e,d] of expert e's weights on die d, solved with GLPK.
//
//   P[e,d] in [0,1], Z[e,d] in {0,1}, P <= Z, sum_d P[e,d] = 1
//   Y[g,d] in {0,1}, Y[g,d] >= Z[e,d] for e in g   (group g touches die d; the paper writes
//                                                    Y >= sum_e Z / |g|, equal on integers, weaker LP)
//   load_d = sum_e P[e,d] f_e <= (1/R_cc + 1) k / D,  R_cc = BW I k / (2 D C)   (option load_cap)
//   t_comp >= sum_e P[e,d] f_e B flops/token / C_d     and, the cost model's roofline (an addition),
//   t_comp >= sum_e P[e,d] hit_e expert bytes / DRAM_d
//   t_comm >= gamma B tokenBytes / BW (sum_e r_e Z[e,d] + sum_g freq_g Y[g,d])
//   min t_comp + 2 t_comm (+ 1e-4 x the summed comm of all dies: a tie-break against splits that
//                            only cost traffic on dies that are not the bottleneck)
//
// Co-activation groups: LoadProfile keeps pair counts, not whole top-k sets, so the groups are the
// `max_groups` most frequent expert pairs of the layer (freq = pair tokens / tokens; a token with
// both experts sends one vector to a die holding both), and every expert is also its own group with
// the residual frequency r_e = max(0, f_e - sum of its modelled pairs). Without pair counts the
// groups are the single experts (the cost model's own per-expert traffic).
// gamma: 0 (the default) calibrates it per layer as in the paper's step 1, against the cost model
// instead of the DES: 2 t_comm of the EP placement = its busiest link's time.
// Warm start (the paper starts from EP): the better of two heuristics (whole experts by LPT; light
// experts whole then heavy ones water-filled), each improved by steepest moves/splits off the
// bottleneck die under the MILP's own objective, handed to GLPK at the root (glp_ios_heur_sol).
// Size: with experts x dies <= `exact_size` every expert may go anywhere (the exact MILP). Beyond
// it each expert's variables are restricted to its warm-start dies plus the `candidate_dies` least
// loaded dies (a large-neighbourhood MILP around the warm start), and the gap is measured against a
// valid bound of the full problem (perfect balance, every expert's traffic counted once: what the
// LP relaxation reaches, so the gap reads large where the relaxation is weak).
// Effort: branch-and-bound stops after `max_nodes` nodes per layer (counted in the callback, so the
// result does not depend on the machine; GLPK's tm_lim is wall-clock and is not used) or at the
// relative gap `mip_gap` (paper: 5 %). The worst final gap is Decision::optimalityGap. The problem is
// scaled (GLP_SF_AUTO): unscaled, a node LP of a 256-expert layer stalled for minutes.
// GLPK keeps its environment per thread (thread-local in GLPK >= 4.50 builds with TLS), so decisions
// may run on a worker pool; terminal output is switched off.
#include <glpk.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <csetjmp>
#include <numeric>
#include <optional>

#include "placement/cost_model.h"
#include "placement/hd_moe.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace hd {

int64_t integerOr(const Params& o, const std::string& key, int64_t fallback) { return o.has(key) ? o.integer(key) : fallback; }
double realOr(const Params& o, const std::string& key, double fallback) { return o.has(key) ? o.real(key) : fallback; }
bool booleanOr(const Params& o, const std::string& key, bool fallback) { return o.has(key) ? o.boolean(key) : fallback; }

namespace {

constexpr double kMicro = 1e6;        // the MILP's times are in microseconds (GLPK's tolerances are absolute)
constexpr double kTieBreak = 1e-4;
constexpr double kDropShare = 1e-4;   // a die's share of an expert below this is folded into the others

// One layer's MILP data over the D usable dies.
struct Layer {
  uint32_t E = 0, D = 0;
  std::vector<double> f;                  // per expert: tokens choosing it / tokens
  std::vector<double> a, m;               // [e * D + i]: microseconds of compute / weight reads for the whole expert
  std::vector<double> r;                  // per expert: residual (single-expert group) frequency
  std::vector<std::pair<uint32_t, uint32_t>> pairs;  // modelled pair groups
  std::vector<double> pf;                 // their frequencies
  std::vector<std::vector<uint32_t>> groupsOf;       // per expert: the pair groups holding it
  double c = 0;                           // microseconds of t_comm per unit of frequency at a die
  double loadCap = 0;                     // 0: none
  std::vector<double> slots;              // per die: experts of room for this layer (<= 0: unbounded)
};

// The MILP objective of a fractional placement P[e * D + i], with running sums for cheap moves.
class Incumbent {
 public:
  explicit Incumbent(const Layer& L) : L_(L), P(size_t{L.E} * L.D, 0.0), A(L.D, 0.0), M(L.D, 0.0), F(L.D, 0.0), N(L.D, 0.0),
                              C(L.D, 0.0), touch(L.pairs.size() * L.D, 0) {}
  const Layer& L_;
  std::vector<double> P, A, M, F, N, C;  // per die: compute, reads, frequency load, experts (for slots), comm units
  std::vector<uint32_t> touch;           // [g * D + i]: members of pair group g on die i

  bool on(uint32_t e, uint32_t i) const { return P[size_t{e} * L_.D + i] > 0; }
  // Adds `x` of expert e to die i (x may be negative; P reaching 0 removes it from the die).
  void add(uint32_t e, uint32_t i, double x) {
    double& p = P[size_t{e} * L_.D + i];
    const bool before = p > 0;
    p += x;
    if (p < 1e-12) p = 0;
    A[i] += x * L_.a[size_t{e} * L_.D + i];
    M[i] += x * L_.m[size_t{e} * L_.D + i];
    F[i] += x * L_.f[e];
    N[i] += x;
    const bool after = p > 0;
    if (before == after) return;
    const int s = after ? 1 : -1;
    C[i] += s * L_.r[e];
    for (uint32_t g : L_.groupsOf[e]) {
      uint32_t& t = touch[size_t{g} * L_.D + i];
      if ((s > 0 && t == 0) || (s < 0 && t == 1)) C[i] += s * L_.pf[g];
      t += s;
    }
  }
  bool feasible(uint32_t i) const {
    return (L_.loadCap <= 0 || F[i] <= L_.loadCap * (1 + 1e-9)) && (L_.slots[i] <= 0 || N[i] <= L_.slots[i] + 1e-9);
  }
  double tComp() const {
    double t = 0;
    for (uint32_t i = 0; i < L_.D; ++i) t = std::max({t, A[i], M[i]});
    return t;
  }
  double tComm() const { return L_.c * *std::max_element(C.begin(), C.end()); }
  double objective() const {
    double sum = 0;
    for (double x : C) sum += x;
    return tComp() + 2 * tComm() + kTieBreak * L_.c * sum;
  }
  // The objective plus a small smooth term (load-weighted mean of the dies' times), so that a move
  // off one of several dies tied at the maximum still counts as progress.
  double score() const {
    double t1 = 0, t2 = 0, c1 = 0, c2 = 0;
    for (uint32_t i = 0; i < L_.D; ++i) {
      const double t = std::max(A[i], M[i]);
      t1 += t, t2 += t * t, c1 += C[i], c2 += C[i] * C[i];
    }
    return objective() + 0.01 * (t1 > 0 ? t2 / t1 : 0) + 0.02 * L_.c * (c1 > 0 ? c2 / c1 : 0);
  }
};

double time(const Incumbent& s, uint32_t i) { return std::max(s.A[i], s.M[i]); }

bool feasibleEverywhere(const Incumbent& s) {
  for (uint32_t i = 0; i < s.L_.D; ++i)
    if (!s.feasible(i)) return false;
  return true;
}

// Puts all of expert e on the least loaded die that has room for it, else as much as fits on the
// die with the most room, and so on; false when the caps leave no room.
bool putLeastLoaded(Incumbent& s, uint32_t e) {
  const Layer& L = s.L_;
  double left = 1;
  while (left > 1e-12) {
    uint32_t best = UINT32_MAX;
    double bestRoom = 0;
    for (uint32_t i = 0; i < L.D; ++i) {
      if (s.on(e, i)) continue;
      double room = left;
      if (L.loadCap > 0) room = std::min(room, (L.loadCap - s.F[i]) / std::max(L.f[e], 1e-300));
      if (L.slots[i] > 0) room = std::min(room, L.slots[i] - s.N[i]);
      if (room <= 1e-12) continue;
      const bool whole = room >= left - 1e-12, bestWhole = bestRoom >= left - 1e-12;
      if (best == UINT32_MAX || (whole && !bestWhole) || (whole && bestWhole && time(s, i) < time(s, best)) ||
          (!whole && !bestWhole && room > bestRoom))
        best = i, bestRoom = room;
    }
    if (best == UINT32_MAX) return false;
    const double x = std::min(left, bestRoom);
    s.add(e, best, x);
    left -= x;
  }
  return true;
}

// Spreads expert e over the least loaded dies so that they end level (water-filling).
void waterFill(Incumbent& s, uint32_t e) {
  const Layer& L = s.L_;
  std::vector<uint32_t> dies(L.D);
  std::iota(dies.begin(), dies.end(), 0u);
  std::stable_sort(dies.begin(), dies.end(), [&](uint32_t x, uint32_t y) { return time(s, x) < time(s, y); });
  auto rate = [&](uint32_t i) { return std::max(L.a[size_t{e} * L.D + i], L.m[size_t{e} * L.D + i]); };
  if (rate(dies[0]) <= 0) return s.add(e, dies[0], 1.0);
  double inv = 0, weighted = 0, level = 0;
  size_t used = 0;
  for (; used < dies.size(); ++used) {
    const uint32_t i = dies[used];
    if (used > 0 && (time(s, i) - 0) * inv - weighted >= 1) break;  // the first `used` dies already take it all
    inv += 1 / rate(i), weighted += time(s, i) / rate(i);
  }
  level = (1 + weighted) / inv;
  double given = 0;
  for (size_t k = 0; k < used; ++k) {
    const uint32_t i = dies[k];
    const double x = k + 1 == used ? 1 - given : std::max(0.0, (level - time(s, i)) / rate(i));
    if (x > 0) s.add(e, i, x), given += x;
  }
}

// Steepest moves of an expert's share (all of it, or the amount that levels the two dies) off the
// compute or the communication bottleneck, while the score falls.
void improve(Incumbent& s, uint64_t passes) {
  const Layer& L = s.L_;
  const uint32_t D = L.D;
  double current = s.score();
  for (uint64_t pass = 0; pass < passes; ++pass) {
    uint32_t hotCompute = 0, hotComm = 0;
    for (uint32_t i = 1; i < D; ++i) {
      if (time(s, i) > time(s, hotCompute)) hotCompute = i;
      if (s.C[i] > s.C[hotComm]) hotComm = i;
    }
    double best = current * (1 - 1e-9);
    uint32_t bestE = 0, bestFrom = 0, bestTo = 0;
    double bestX = 0;
    for (uint32_t from : {hotCompute, hotComm}) {
      for (uint32_t e = 0; e < L.E; ++e) {
        const double have = s.P[size_t{e} * D + from];
        if (have <= 0) continue;
        for (uint32_t to = 0; to < D; ++to) {
          if (to == from) continue;
          const double ca = std::max(L.a[size_t{e} * D + from], L.m[size_t{e} * D + from]);
          const double cb = std::max(L.a[size_t{e} * D + to], L.m[size_t{e} * D + to]);
          const double even = ca + cb > 0 ? (time(s, from) - time(s, to)) / (ca + cb) : have;
          for (double x : {have, std::clamp(even, 0.0, have)}) {
            if (x <= 1e-6) continue;
            s.add(e, from, -x);
            s.add(e, to, x);
            const double value = s.feasible(to) ? s.score() : 1e300;
            s.add(e, to, -x);
            s.add(e, from, x);
            if (value < best) best = value, bestE = e, bestFrom = from, bestTo = to, bestX = x;
          }
        }
      }
      if (hotComm == hotCompute) break;
    }
    if (bestX == 0) break;
    s.add(bestE, bestFrom, -bestX);
    s.add(bestE, bestTo, bestX);
    current = best;
  }
}

// The warm start: the better of (a) every expert whole by LPT and (b) the experts lighter than half
// a die's fair share whole by LPT, then the heavy ones water-filled over the least loaded dies; each
// improved by `passes` steepest moves. None when the greedy packing fails under the caps (room,
// load cap): GLPK then searches without a warm start.
std::optional<Incumbent> heuristic(const Layer& L, uint64_t passes) {
  const uint32_t D = L.D;
  std::vector<double> work(L.E);
  double total = 0;
  for (uint32_t e = 0; e < L.E; ++e) total += work[e] = std::max(L.a[size_t{e} * D], L.m[size_t{e} * D]);
  std::vector<uint32_t> order(L.E);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return work[x] > work[y]; });
  std::optional<Incumbent> lpt(std::in_place, L);
  for (uint32_t e : order)
    if (!putLeastLoaded(*lpt, e)) {
      lpt.reset();
      break;
    }
  if (lpt) improve(*lpt, passes);
  std::optional<Incumbent> filled(std::in_place, L);
  const double heavy = 0.5 * total / D;
  for (uint32_t e : order)
    if (work[e] <= heavy && !putLeastLoaded(*filled, e)) {
      filled.reset();
      break;
    }
  if (filled)
    for (uint32_t e : order)
      if (work[e] > heavy) waterFill(*filled, e);
  if (filled && !feasibleEverywhere(*filled)) filled.reset();
  if (filled) improve(*filled, passes);
  if (!lpt && !filled) {
    // Last resort: every expert spread over the dies in proportion to their room (TP when the room
    // is equal), which meets the room and, on equal dies, the load cap.
    filled.emplace(L);
    double room = 0;
    for (uint32_t i = 0; i < D; ++i) room += L.slots[i] > 0 ? L.slots[i] : 1.0;
    for (uint32_t e = 0; e < L.E; ++e)
      for (uint32_t i = 0; i < D; ++i) filled->add(e, i, (L.slots[i] > 0 ? L.slots[i] : 1.0) / room);
    if (!feasibleEverywhere(*filled)) return std::nullopt;
    improve(*filled, passes);
  }
  return !lpt || (filled && filled->objective() < lpt->objective()) ? filled : lpt;
}

struct SearchState {
  const std::vector<double>* warm = nullptr;  // 1-based column values
  bool offered = false;
  int maxNodes = 0;
  int nodes = 0;
  double gap = 0;
};

void callback(glp_tree* tree, void* info) {
  auto* st = static_cast<SearchState*>(info);
  int active = 0, current = 0, total = 0;
  glp_ios_tree_size(tree, &active, &current, &total);
  st->nodes = total;
  const double gap = glp_ios_mip_gap(tree);
  if (gap < DBL_MAX) st->gap = gap;
  if (glp_ios_reason(tree) == GLP_IHEUR && !st->offered && st->warm) {
    st->offered = true;
    glp_ios_heur_sol(tree, st->warm->data());
  }
  if (glp_ios_reason(tree) == GLP_ISELECT && total > st->maxNodes) glp_ios_terminate(tree);
}

struct GlpProblem {
  glp_prob* lp = glp_create_prob();
  ~GlpProblem() {
    if (lp) glp_delete_prob(lp);
  }
};

// GLPK answers a failed internal check (an assertion in its simplex on badly scaled numbers, such
// as a subnormal link bandwidth in a request) by calling the error hook and then abort(), which
// took the whole placement service down (found by fuzz_placement_message). The hook jumps back to
// the call instead; the thread's GLPK environment (thread-local, with every problem object of this
// thread, `prob` the only one) is then freed and the policy refuses the problem.
extern "C" void jumpOutOfGlpk(void* info) { std::longjmp(*static_cast<std::jmp_buf*>(info), 1); }

template <typename Call>
int guardedGlpk(GlpProblem& prob, const char* what, Call&& call) {
  std::jmp_buf env;
  if (setjmp(env) != 0) {
    glp_error_hook(nullptr, nullptr);
    prob.lp = nullptr;  // freed with the environment
    glp_free_env();
    fail(ErrorKind::InvalidConfig, "placement policy hd_node_balance: GLPK failed in ", what,
         " (numbers too badly scaled to solve)");
  }
  glp_error_hook(jumpOutOfGlpk, &env);
  const int ret = call();
  glp_error_hook(nullptr, nullptr);
  return ret;
}

// A lower bound on the full MILP's objective: perfect balance of compute and of reads, and every
// expert's (and pair's) traffic counted once, spread evenly (the LP relaxation reaches it on equal dies).
double lowerBound(const Layer& L) {
  double a = 0, m = 0, ra = 0, rm = 0, comm = 0;
  for (uint32_t i = 0; i < L.D; ++i) {
    // Speeds relative to die 0's coefficients: a[e, i] = a[e, 0] * (a[*, i] / a[*, 0]).
    double ai = 0, a0 = 0, mi = 0, m0 = 0;
    for (uint32_t e = 0; e < L.E; ++e)
      ai += L.a[size_t{e} * L.D + i], a0 += L.a[size_t{e} * L.D], mi += L.m[size_t{e} * L.D + i], m0 += L.m[size_t{e} * L.D];
    if (ai > 0) ra += a0 / ai;
    if (mi > 0) rm += m0 / mi;
    if (i == 0) a = a0, m = m0;
  }
  for (double r : L.r) comm += r;
  for (double x : L.pf) comm += x;
  return std::max(ra > 0 ? a / ra : 0.0, rm > 0 ? m / rm : 0.0) + 2 * L.c * comm / L.D + kTieBreak * L.c * comm;
}

// Solves one layer; returns P[e * D + i] and records the gap (against the full problem) and the nodes.
// Experts may use every die when E x D <= exact_size; beyond that, each expert's variables are
// restricted to its dies in the warm start plus the `candidate_dies` least loaded dies of the warm
// start (a large-neighbourhood MILP around it), and the gap is measured against lowerBound().
std::vector<double> solveLayer(const Layer& L, const Params& o, double& gap, uint64_t& nodes) {
  const uint32_t E = L.E, D = L.D, G = static_cast<uint32_t>(L.pairs.size());
  const std::optional<Incumbent> start = heuristic(L, static_cast<uint64_t>(integerOr(o, "heuristic_moves", 2000)));
  const Incumbent warm = start ? *start : Incumbent(L);  // empty without a warm start
  const double bound = lowerBound(L);
  const double warmValue = start ? warm.objective() : DBL_MAX;
  if (D == 1 && start) {
    gap = 0;
    return warm.P;
  }
  const bool exact = !start || uint64_t{E} * D <= static_cast<uint64_t>(integerOr(o, "exact_size", 1024));
  std::vector<uint32_t> byTime(D);
  std::iota(byTime.begin(), byTime.end(), 0u);
  std::stable_sort(byTime.begin(), byTime.end(), [&](uint32_t x, uint32_t y) { return time(warm, x) < time(warm, y); });
  const auto extra = std::min<uint32_t>(D, static_cast<uint32_t>(integerOr(o, "candidate_dies", 4)));
  // Variables of expert e on die i: index k into the (e, i) candidate list, or -1.
  std::vector<int> var(size_t{E} * D, -1);
  std::vector<std::pair<uint32_t, uint32_t>> cand;
  for (uint32_t e = 0; e < E; ++e) {
    std::vector<bool> use(D, exact);
    for (uint32_t i = 0; i < D; ++i) use[i] = use[i] || warm.on(e, i);
    for (uint32_t k = 0; k < extra; ++k) use[byTime[k]] = true;
    for (uint32_t i = 0; i < D; ++i)
      if (use[i]) var[size_t{e} * D + i] = int(cand.size()), cand.push_back({e, i});
  }
  const int K = int(cand.size());
  // Group g touches die i only where one of its experts may go.
  std::vector<int> yVar(size_t{G} * D, -1);
  int Ycount = 0;
  for (uint32_t g = 0; g < G; ++g)
    for (uint32_t i = 0; i < D; ++i)
      if (var[size_t{L.pairs[g].first} * D + i] >= 0 || var[size_t{L.pairs[g].second} * D + i] >= 0)
        yVar[size_t{g} * D + i] = Ycount++;
  const int colP = 1, colZ = colP + K, colY = colZ + K, colComp = colY + Ycount, colComm = colComp + 1;
  const int cols = colComm;
  GlpProblem prob;
  glp_prob* lp = prob.lp;
  glp_set_obj_dir(lp, GLP_MIN);
  glp_add_cols(lp, cols);
  for (int k = 0; k < K; ++k) {
    glp_set_col_bnds(lp, colP + k, GLP_DB, 0.0, 1.0);
    glp_set_col_kind(lp, colZ + k, GLP_BV);
    glp_set_obj_coef(lp, colZ + k, kTieBreak * L.c * L.r[cand[k].first]);
  }
  for (uint32_t g = 0; g < G; ++g)
    for (uint32_t i = 0; i < D; ++i)
      if (const int y = yVar[size_t{g} * D + i]; y >= 0) {
        glp_set_col_kind(lp, colY + y, GLP_BV);
        glp_set_obj_coef(lp, colY + y, kTieBreak * L.c * L.pf[g]);
      }
  glp_set_col_bnds(lp, colComp, GLP_LO, 0.0, 0.0);
  glp_set_col_bnds(lp, colComm, GLP_LO, 0.0, 0.0);
  glp_set_obj_coef(lp, colComp, 1.0);
  glp_set_obj_coef(lp, colComm, 2.0);

  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0.0};
  int row = 0;
  auto newRow = [&](int type, double lo, double up) {
    row = glp_add_rows(lp, 1);
    glp_set_row_bnds(lp, row, type, lo, up);
  };
  auto put = [&](int col, double v) {
    if (v == 0) return;
    ia.push_back(row), ja.push_back(col), ar.push_back(v);
  };
  auto at = [&](uint32_t e, uint32_t i) { return var[size_t{e} * D + i]; };
  for (uint32_t e = 0; e < E; ++e) {
    newRow(GLP_FX, 1.0, 1.0);
    for (uint32_t i = 0; i < D; ++i)
      if (at(e, i) >= 0) put(colP + at(e, i), 1.0);
  }
  for (int k = 0; k < K; ++k) {
    newRow(GLP_UP, 0.0, 0.0);
    put(colP + k, 1.0), put(colZ + k, -1.0);
  }
  for (uint32_t g = 0; g < G; ++g)
    for (uint32_t i = 0; i < D; ++i)
      for (uint32_t e : {L.pairs[g].first, L.pairs[g].second})
        if (at(e, i) >= 0) {
          newRow(GLP_UP, 0.0, 0.0);
          put(colZ + at(e, i), 1.0), put(colY + yVar[size_t{g} * D + i], -1.0);
        }
  for (uint32_t i = 0; i < D; ++i) {
    for (const std::vector<double>* coef : {&L.a, &L.m}) {
      newRow(GLP_UP, 0.0, 0.0);
      for (uint32_t e = 0; e < E; ++e)
        if (at(e, i) >= 0) put(colP + at(e, i), (*coef)[size_t{e} * D + i]);
      put(colComp, -1.0);
    }
    newRow(GLP_UP, 0.0, 0.0);
    for (uint32_t e = 0; e < E; ++e)
      if (at(e, i) >= 0) put(colZ + at(e, i), L.c * L.r[e]);
    for (uint32_t g = 0; g < G; ++g)
      if (yVar[size_t{g} * D + i] >= 0) put(colY + yVar[size_t{g} * D + i], L.c * L.pf[g]);
    put(colComm, -1.0);
    if (L.loadCap > 0) {
      newRow(GLP_UP, 0.0, L.loadCap);
      for (uint32_t e = 0; e < E; ++e)
        if (at(e, i) >= 0) put(colP + at(e, i), L.f[e]);
    }
    if (L.slots[i] > 0) {
      newRow(GLP_UP, 0.0, L.slots[i]);
      for (uint32_t e = 0; e < E; ++e)
        if (at(e, i) >= 0) put(colP + at(e, i), 1.0);
    }
  }
  guardedGlpk(prob, "glp_load_matrix", [&] {
    glp_load_matrix(lp, int(ia.size()) - 1, ia.data(), ja.data(), ar.data());
    return 0;
  });

  // The warm start as column values (t_comp, t_comm at their smallest feasible values).
  std::vector<double> x(size_t(cols) + 1, 0.0);
  for (int k = 0; k < K; ++k) {
    const auto [e, i] = cand[k];
    x[size_t(colP + k)] = warm.P[size_t{e} * D + i];
    x[size_t(colZ + k)] = warm.on(e, i) ? 1.0 : 0.0;
  }
  for (uint32_t g = 0; g < G; ++g)
    for (uint32_t i = 0; i < D; ++i)
      if (const int y = yVar[size_t{g} * D + i]; y >= 0) x[size_t(colY + y)] = warm.touch[size_t{g} * D + i] > 0 ? 1.0 : 0.0;
  x[size_t(colComp)] = warm.tComp() * (1 + 1e-9);
  x[size_t(colComm)] = warm.tComm() * (1 + 1e-9);

  guardedGlpk(prob, "glp_scale_prob", [&] {
    glp_scale_prob(lp, GLP_SF_AUTO);
    return 0;
  });
  glp_smcp smcp;
  glp_init_smcp(&smcp);
  smcp.msg_lev = GLP_MSG_OFF;
  smcp.meth = GLP_DUALP;
  // An iteration bound, not a time bound (deterministic): GLPK's simplex stalled for minutes on an
  // ordinary 2x2 request with one slower link (found by fuzz_placement_message). Past it, the
  // warm start stands, as when the search stops at max_nodes.
  smcp.it_lim = 200 * (glp_get_num_rows(lp) + cols) + 10000;
  const int lpStatus = guardedGlpk(prob, "glp_simplex", [&] { return glp_simplex(lp, &smcp); });
  if (lpStatus == GLP_EITLIM) {
    if (!start)
      fail(ErrorKind::InvalidConfig, "placement policy hd_node_balance: GLPK's LP relaxation did not converge within ",
           smcp.it_lim, " iterations and the problem has no warm start");
    nodes = 0;
    gap = warmValue > 0 ? std::max(0.0, (warmValue - bound) / warmValue) : 0;
    return warm.P;
  }
  if (lpStatus == 0 && (glp_get_status(lp) == GLP_NOFEAS || glp_get_status(lp) == GLP_INFEAS))
    fail(ErrorKind::InvalidConfig, "placement policy hd_node_balance: a layer's experts cannot be placed under the "
         "dies' room and the load cap (load_cap=false relaxes the latter)");
  if (lpStatus != 0 || glp_get_status(lp) != GLP_OPT)
    fail(ErrorKind::Internal, "placement policy hd_node_balance: GLPK's LP relaxation failed (glp_simplex ", lpStatus,
         ", status ", glp_get_status(lp), ")");
  SearchState st;
  st.warm = start ? &x : nullptr;
  st.maxNodes = static_cast<int>(std::min<int64_t>(integerOr(o, "max_nodes", 20), INT32_MAX));
  glp_iocp iocp;
  glp_init_iocp(&iocp);
  iocp.msg_lev = GLP_MSG_OFF;
  iocp.presolve = GLP_OFF;
  iocp.mip_gap = realOr(o, "mip_gap", 0.05);
  iocp.cb_func = callback;
  iocp.cb_info = &st;
  const int ret = guardedGlpk(prob, "glp_intopt", [&] { return glp_intopt(lp, &iocp); });
  nodes = static_cast<uint64_t>(st.nodes);
  const int status = glp_mip_status(lp);
  std::vector<double> P(size_t{E} * D, 0.0);
  if ((ret != 0 && ret != GLP_ESTOP && ret != GLP_EMIPGAP) || (status != GLP_OPT && status != GLP_FEAS)) {
    // No integer solution from the search (the warm start was refused): keep the warm start.
    if (ret == GLP_ENOPFS || ret == GLP_ENODFS || status == GLP_NOFEAS)
      fail(ErrorKind::InvalidConfig, "placement policy hd_node_balance: a layer's experts cannot be placed under the "
           "dies' room and the load cap (load_cap=false relaxes the latter)");
    if (ret != GLP_ESTOP || !start)
      fail(ErrorKind::Internal, "placement policy hd_node_balance: GLPK found no integer solution within max_nodes "
           "(glp_intopt ", ret, ", status ", status, ")");
    gap = warmValue > 0 ? std::max(0.0, (warmValue - bound) / warmValue) : 0;
    return warm.P;
  }
  const double value = glp_mip_obj_val(lp);
  const double fullGap = value > 0 ? std::max(0.0, (value - bound) / value) : 0;
  const double searchGap = ret == 0 && status == GLP_OPT ? 0.0 : st.gap;
  gap = exact ? std::min(searchGap, fullGap) : fullGap;
  for (int k = 0; k < K; ++k)
    P[size_t{cand[k].first} * D + cand[k].second] = std::clamp(glp_mip_col_val(lp, colP + k), 0.0, 1.0);
  return P;
}

// Integer parts (summing to kWhole) in proportion to `share` (largest remainder, ties to the lower index).
std::vector<uint32_t> toParts(std::vector<double> share) {
  double sum = 0;
  for (double& s : share) sum += s = s < kDropShare ? 0.0 : s;
  WAFERSIM_ASSERT(sum > 0, sum);
  std::vector<uint32_t> parts(share.size(), 0);
  std::vector<std::pair<double, uint32_t>> rest;
  uint64_t given = 0;
  for (uint32_t i = 0; i < share.size(); ++i) {
    const double exact = share[i] / sum * kWhole;
    parts[i] = static_cast<uint32_t>(std::floor(exact));
    given += parts[i];
    if (share[i] > 0) rest.push_back({-(exact - parts[i]), i});
  }
  std::sort(rest.begin(), rest.end());
  for (size_t k = 0; given < kWhole; ++k, ++given) ++parts[rest[k % rest.size()].second];
  return parts;
}

}  // namespace

std::vector<ParamSpec> nodeBalanceParams() {
  return {{"max_nodes", ParamType::Integer, "20", "branch-and-bound nodes per layer before GLPK stops", 1, 1e9},
          {"exact_size", ParamType::Integer, "1024", "experts x dies up to which every expert may go to every die", 0, 1e12},
          {"candidate_dies", ParamType::Integer, "4", "beyond exact_size: least loaded dies of the warm start open to every expert", 0, 1e6},
          {"mip_gap", ParamType::Real, "0.05", "relative MIP gap at which a layer's search stops (paper: 5 %)", 0, 1},
          {"max_groups", ParamType::Integer, "32", "co-activation pair groups modelled per layer (the most frequent)", 0, 1e6},
          {"gamma", ParamType::Real, "0", "comm calibration slope gamma (0: fit per layer against the cost model at EP)", 0, 1e6},
          {"load_cap", ParamType::Boolean, "true", "cap a die's load at (1/R_cc + 1) k / D as in the paper", {}, {}},
          {"heuristic_moves", ParamType::Integer, "2000", "improving moves of the warm-start heuristic per layer", 0, 1e9}};
}

NodeBalanceResult nodeBalance(const Problem& p) {
  const Fabric& fab = p.fabric;
  const std::vector<uint32_t> live = fab.usableDies();
  WAFERSIM_REQUIRE(!live.empty(), "placement policy hd_node_balance: no usable die");
  const auto D = static_cast<uint32_t>(live.size());
  const uint32_t E = p.model.experts;
  const double B = stepTokens(p);
  const double tokenBytes = double(p.model.hidden) * p.model.activationBytes;
  double bw = 0, flops = 0;
  for (double b : fab.linkBandwidth)
    if (b > 0) bw = bw == 0 ? b : std::min(bw, b);
  for (uint32_t d : live) flops += fab.expertFlops.empty() ? 0 : fab.expertFlops[d] / D;
  const Placement ep = expertParallel(p);
  glp_term_out(GLP_OFF);

  NodeBalanceResult out;
  out.placement = Placement(fab.dies, p.model.layers, E);
  for (uint32_t l = 0; l < p.model.layers; ++l) {
    Layer L;
    L.E = E, L.D = D;
    const bool profiled = p.profile.layers() > l && p.profile.experts() == E && p.profile.tokens(l) > 0;
    const double tokens = profiled ? double(p.profile.tokens(l)) : 0;
    L.f.assign(E, double(p.model.topK) / std::max(1u, E));
    if (profiled)
      for (uint32_t e = 0; e < E; ++e) L.f[e] = double(p.profile.load(l, e)) / tokens;
    L.a.assign(size_t{E} * D, 0.0);
    L.m.assign(size_t{E} * D, 0.0);
    for (uint32_t e = 0; e < E; ++e) {
      const double hit = 1.0 - std::pow(std::max(0.0, 1.0 - L.f[e]), B);
      for (uint32_t i = 0; i < D; ++i) {
        const uint32_t d = live[i];
        if (!fab.expertFlops.empty() && fab.expertFlops[d] > 0)
          L.a[size_t{e} * D + i] = kMicro * L.f[e] * B * p.model.flopsPerToken() / fab.expertFlops[d];
        if (!fab.memoryBandwidth.empty() && fab.memoryBandwidth[d] > 0)
          L.m[size_t{e} * D + i] = kMicro * hit * double(p.model.expertBytes) / fab.memoryBandwidth[d];
      }
    }
    // Co-activation groups: the most frequent pairs.
    L.r = L.f;
    L.groupsOf.assign(E, {});
    const auto maxGroups = static_cast<size_t>(hd::integerOr(p.options, "max_groups", 32));
    if (profiled && p.profile.hasPairs() && maxGroups > 0) {
      std::vector<std::pair<uint32_t, std::pair<uint32_t, uint32_t>>> all;
      for (uint32_t a = 0; a < E; ++a)
        for (uint32_t b = a + 1; b < E; ++b)
          if (uint32_t n = p.profile.pair(l, a, b); n > 0) all.push_back({n, {a, b}});
      std::stable_sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
      if (all.size() > maxGroups) all.resize(maxGroups);
      for (const auto& [n, ab] : all) {
        const uint32_t g = static_cast<uint32_t>(L.pairs.size());
        L.pairs.push_back(ab);
        L.pf.push_back(double(n) / tokens);
        L.groupsOf[ab.first].push_back(g), L.groupsOf[ab.second].push_back(g);
        L.r[ab.first] -= L.pf.back(), L.r[ab.second] -= L.pf.back();
      }
      for (double& r : L.r) r = std::max(0.0, r);
    }
    // gamma: 2 t_comm of EP = the cost model's busiest link at EP.
    double gamma = hd::realOr(p.options, "gamma", 0);
    const double base = bw > 0 ? kMicro * B * tokenBytes / bw : 0;
    if (gamma <= 0 && base > 0) {
      Layer unit = L;
      unit.c = base;
      unit.loadCap = 0;
      unit.slots.assign(D, 0.0);
      Incumbent epState(unit);
      for (uint32_t e = 0; e < E; ++e) {
        const uint32_t die = ep.replicas(0, e).front().shards.front().die;
        epState.add(e, static_cast<uint32_t>(std::lower_bound(live.begin(), live.end(), die) - live.begin()), 1.0);
      }
      const double analytic = epState.tComm();
      const double links = kMicro * linkSeconds(fab, trafficMatrix(p, ep, l));
      gamma = analytic > 0 && links > 0 ? links / (2 * analytic) : 1.0;
    }
    L.c = std::max(gamma, 0.0) * base;
    if (hd::booleanOr(p.options, "load_cap", true) && bw > 0 && flops > 0 && p.model.topK > 0) {
      double k = 0;
      for (double x : L.f) k += x;
      const double rcc = bw * double(p.model.intermediate) * p.model.topK / (2.0 * D * flops);
      L.loadCap = (1.0 / rcc + 1.0) * k / D;
    }
    L.slots.assign(D, 0.0);
    if (!fab.expertCapacityBytes.empty() && p.model.expertBytes > 0) {
      double room = 0;
      for (uint32_t i = 0; i < D; ++i) {
        const double experts = double(fab.expertCapacityBytes[live[i]]) / double(p.model.expertBytes) / p.model.layers;
        if (experts < E) L.slots[i] = std::max(experts, 1e-9);  // binding: model it
        room += std::min<double>(experts, E);
      }
      WAFERSIM_REQUIRE(room >= E, "placement policy hd_node_balance: layer ", l, " needs room for ", E,
                       " experts, the usable dies have room for ", room);
    }
    double gap = 0;
    uint64_t nodes = 0;
    const std::vector<double> P = solveLayer(L, p.options, gap, nodes);
    out.worstGap = std::max(out.worstGap, gap);
    out.meanGap += gap / p.model.layers;
    out.nodes += nodes;
    out.groups = std::max<uint32_t>(out.groups, static_cast<uint32_t>(L.pairs.size()) + E);
    for (uint32_t e = 0; e < E; ++e) {
      const std::vector<uint32_t> parts = toParts(std::vector<double>(P.begin() + size_t{e} * D, P.begin() + size_t{e + 1} * D));
      Replica r;
      for (uint32_t i = 0; i < D; ++i)
        if (parts[i] > 0) r.shards.push_back({live[i], parts[i]});
      out.splitExperts += r.shards.size() > 1;
      out.placement.replicas(l, e) = {std::move(r)};
    }
  }
  return out;
}

}  // namespace hd

namespace {

class NodeBalancePolicy final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    hd::NodeBalanceResult r = hd::nodeBalance(p);
    Decision d;
    d.placement = std::move(r.placement);
    d.optimalityGap = r.worstGap;
    checkCapacity(p, d.placement, "hd_node_balance");
    d.reason = "NodeBalance MILP per layer (GLPK): " + std::to_string(r.splitExperts) +
               " expert-layers split over several dies, the rest whole; worst MIP gap " + std::to_string(r.worstGap) +
               ", " + std::to_string(r.nodes) + " branch-and-bound nodes";
    predictGain(p, d);
    return d;
  }
};

}  // namespace

PolicyType hdNodeBalancePolicy() {
  return {"hd_node_balance",
          "HD-MoE NodeBalance: per-layer MILP (GLPK) splitting hot experts over dies and packing cold ones",
          "HD-MoE (Huang et al., ICCAD 2025), research/seeds.md 2.4 step 2",
          hd::nodeBalanceParams(),
          {.pairs = true},
          [] { return std::make_unique<NodeBalancePolicy>(); }};
}

}  // namespace wafersim::placement
