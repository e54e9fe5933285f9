#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// CPU time in seconds from `clock_gettime`: what benchmarks on a shared machine measure, since
/// another process's time slices do not count (the wall clock would include them).
public enum CPUTime {
    /// CPU time of the whole process (all threads, user + system).
    public static func process() -> Double { read(CLOCK_PROCESS_CPUTIME_ID) }

    /// CPU time of the calling thread.
    public static func thread() -> Double { read(CLOCK_THREAD_CPUTIME_ID) }

    private static func read(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
