#include "coordinator/placement_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "coordinator/child_process.h"
#include "coordinator/local_launcher.h"
#include "sim/error.h"

namespace wafersim {

std::string findPlacementBinary() { return findSiblingBinary("wafersim-placement", "placement"); }

LocalPlacementService::LocalPlacementService(const proto::CurveFiles& curve) {
  const std::string binary = findPlacementBinary();
  ChildSpec child;
  child.argv = {binary, "--bind", "tcp://127.0.0.1:*", "--quiet"};
  appendCurveArguments(child.argv, curve);
  // Its first line: "wafersim-placement listening on ENDPOINT".
  const StartedChild started = spawnAndReadFirstLine(child, std::chrono::seconds(10));
  pid_ = started.pid;
  const std::string prefix = "wafersim-placement listening on ";
  if (started.firstLine.rfind(prefix, 0) != 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    fail(ErrorKind::Internal, "placement service (", binary, ") did not say where it listens: ", started.firstLine);
  }
  endpoint_ = started.firstLine.substr(prefix.size());
}

LocalPlacementService::~LocalPlacementService() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {  // up to 2 s, then kill
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    ::usleep(10'000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace wafersim
