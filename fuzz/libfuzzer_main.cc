// The libFuzzer entry point of one harness (targets.h), chosen by WAFERSIM_FUZZ_TARGET at build
// time: fuzz/CMakeLists.txt builds one program fuzz_NAME per target with the `fuzz` preset. A
// Finding is reported on stderr and aborts, which libFuzzer records as a crash (crash-<sha1>).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const wafersim::fuzz::Target& target = wafersim::fuzz::target(WAFERSIM_FUZZ_TARGET);
  try {
    target.run(data, size);
  } catch (const wafersim::fuzz::Finding& finding) {
    std::fprintf(stderr, "==wafersim-fuzz== FINDING in %s: %s\n", target.name, finding.what());
    std::abort();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "==wafersim-fuzz== FINDING in %s: the harness let an exception out: %s\n", target.name,
                 e.what());
    std::abort();
  }
  return 0;
}
