//! Peak resident memory of the bench process, shared by the benches that report it.

/// This process's peak RSS in KiB (`VmHWM` of /proc/self/status), when readable.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
