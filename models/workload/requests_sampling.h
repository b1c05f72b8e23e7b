// Real-valued draws for the request workload, bit-identical on every machine.
//
// Built only from correctly rounded IEEE operations (+ - * / sqrt), RandomStream's uniform draws
// and deterministicLog (sim/random.h), so no libm difference can change a workload (contract 2).
// std:: distributions are not used: their algorithms differ between standard libraries.
#pragma once

#include "sim/random.h"
#include "sim/time.h"

namespace wafersim::workload {

// e^x to about 2 ulp; 0 below -745, +infinity above 709.78. Range reduction by ln 2 and a Taylor
// polynomial, no libm.
double deterministicExp(double x);

// Natural logarithm of any finite x > 0 (deterministicLog covers (0, 1]; above 1 this uses
// log x = -log(1/x), which costs one rounding).
double logPositive(double x);

// A standard normal draw (Marsaglia's polar method; the second value of each pair is dropped so
// the draw has no hidden state besides the stream).
double standardNormal(RandomStream& stream);

// A gamma draw with the given shape (> 0) and scale 1: Marsaglia and Tsang's squeeze method for
// shape >= 1; for shape < 1, Gamma(shape + 1) * U^(1/shape).
double gammaDraw(RandomStream& stream, double shape);

// Seconds (a real >= 0) to a Duration, rounded to the nearest picosecond; negative or NaN gives
// zero, anything past int64 picoseconds Duration::max().
Duration durationFromSeconds(double seconds);

}  // namespace wafersim::workload
