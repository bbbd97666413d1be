//! The machine the figures come from, and how much of it the run did not
//! have: the VM is shared, and a neighbour's build during a case changes its
//! figures more than most changes to the server do. Each case reports the
//! share of the machine's CPU that other processes used while its load ran,
//! and the time the hypervisor stole.

use std::time::Duration;

/// Linux reports CPU times in clock ticks of 1/100 s.
const TICK: Duration = Duration::from_millis(10);

/// The machine's CPU counters at one moment (`/proc/stat`, first line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MachineCpu {
    /// Time some process (or the kernel for it) ran, all cores.
    pub busy: Duration,
    /// Time the hypervisor gave to other guests while this one wanted to run.
    pub steal: Duration,
    pub total: Duration,
}

fn parse_stat(stat: &str) -> Option<MachineCpu> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal …
    let (busy, steal) = (f.first()? + f.get(1)? + f.get(2)? + f.get(5)? + f.get(6)?, *f.get(7)?);
    let total = busy + f.get(3)? + f.get(4)? + steal;
    let ticks = |n: u64| TICK * u32::try_from(n).unwrap_or(u32::MAX);
    Some(MachineCpu { busy: ticks(busy), steal: ticks(steal), total: ticks(total) })
}

impl MachineCpu {
    pub fn now() -> MachineCpu {
        std::fs::read_to_string("/proc/stat").ok().and_then(|s| parse_stat(&s)).unwrap_or_default()
    }
}

/// CPU time this process and its children it has waited for (wrk) used.
pub fn own_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| {
        let rest = s.rsplit_once(')')?.1;
        let f: Vec<u64> = rest.split_whitespace().skip(11).take(4).filter_map(|v| v.parse().ok()).collect();
        Some(f.iter().sum::<u64>())
    });
    TICK * u32::try_from(ticks.unwrap_or(0)).unwrap_or(u32::MAX)
}

/// Shares of the machine between two moments: what processes other than
/// the run's (`known`: servers, their database backends, the bench and its
/// wrk) used, and what was stolen.
pub fn shares(before: MachineCpu, after: MachineCpu, known: Duration) -> (f64, f64) {
    let total = after.total.saturating_sub(before.total).as_secs_f64();
    if total <= 0.0 {
        return (0.0, 0.0);
    }
    let others = after.busy.saturating_sub(before.busy).saturating_sub(known).as_secs_f64();
    (others / total, after.steal.saturating_sub(before.steal).as_secs_f64() / total)
}

/// `2 cores (model), 24 GiB`.
pub fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!("{cores} cores ({model}), {memory:.0} GiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_stat_and_shares_the_machine() {
        let before = parse_stat("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3\n").unwrap();
        assert_eq!(before.busy, TICK * 150);
        assert_eq!(before.total, TICK * 1000);
        let after = parse_stat("cpu  300 0 150 1400 10 0 0 140 0 0\n").unwrap();
        // 1000 ticks passed: 300 busy, of which 200 were the run's; 100 stolen.
        let (others, steal) = shares(before, after, TICK * 200);
        assert!((others - 0.1).abs() < 1e-9 && (steal - 0.1).abs() < 1e-9, "{others} {steal}");
        assert_eq!(shares(after, after, Duration::ZERO), (0.0, 0.0));
    }
}
