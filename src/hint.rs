//! A cache hint, the library's only unsafe code (a benchmark showed it pays, see
//! docs/decisions.md, "Where a run's time goes").

/// Asks the CPU to bring the memory of `value` into its cache: a hint, with no effect on what
/// the program computes (so no test can see it; the byte-identical reports of every scan test
/// run through it). On architectures without a stable prefetch it does nothing.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = (value as *const T).cast::<i8>();
        for line in (0..std::mem::size_of::<T>()).step_by(64) {
            // SAFETY: `_mm_prefetch` only needs SSE, which every x86_64 CPU has; a prefetch
            // never faults, reads nothing into the program and writes nothing, whatever the
            // address (and this one lies within `value`, which is live).
            #[allow(unsafe_code)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
