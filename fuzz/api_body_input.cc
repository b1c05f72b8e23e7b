// targets.h: api_body. The bytes are the JSON body of a POST to the coordinator's API, read both
// as a run submission (POST /api/v1/runs: parseRunSubmission) and as a sweep submission (POST
// /api/v1/sweeps: parseSweepSubmission, then the sweep specification parsed and expanded with the
// service's default bound on points), as the service reads them. The scenario inside is the
// scenario target's business. Rejections are Error{InvalidConfig} naming the field.
#include <string>

#include "coordinator/service_api.h"
#include "coordinator/sweep.h"
#include "fuzz/rejections.h"
#include "fuzz/targets.h"

namespace wafersim::fuzz {

namespace {
constexpr const char* kTarget = "api_body";
constexpr uint32_t kMaxNodes = 256;        // ServiceOptions::maxNodesPerRun
constexpr size_t kMaxSweepPoints = 10000;  // ServiceOptions::maxSweepPoints
}  // namespace

void apiBodyInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  rejectsOnlyWithErrors(kTarget, [&] { api::parseRunSubmission(body, kMaxNodes); });
  rejectsOnlyWithErrors(kTarget, [&] {
    const api::SweepSubmission sub = api::parseSweepSubmission(body, kMaxNodes);
    const std::vector<SweepPoint> points = expandSweep(parseSweepSpec(sub.spec, kMaxSweepPoints));
    if (points.empty() || points.size() > kMaxSweepPoints)
      throw Finding(std::string(kTarget) + ": a sweep expanded to " + std::to_string(points.size()) + " points");
  });
}

}  // namespace wafersim::fuzz
