// SLUICE_ALWAYS_INLINE forces inlining where profiles showed GCC's inliner
// giving up on hot code: the wire decoders' per-field reads and Status's
// destructor (see docs/benchmarks.md, "Protocol"). It applies only
// to optimised builds without SLUICE_NO_FORCED_INLINE: unoptimised and
// sanitizer builds gain nothing from it, and forcing it there doubled the
// compile time of the generated decoders, most of a cold test run's build.
// The GNU spelling, because it also fits a lambda after its parameters.

#pragma once

#if defined(__OPTIMIZE__) && !defined(SLUICE_NO_FORCED_INLINE)
#define SLUICE_ALWAYS_INLINE __attribute__((always_inline))
#else
#define SLUICE_ALWAYS_INLINE
#endif
