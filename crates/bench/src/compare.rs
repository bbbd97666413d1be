//! `--against B`: runs two benches at the same time, one on each binary, and
//! prints their figures side by side with the ratio. On a machine whose speed
//! drifts (a shared VM), one run after the other cannot tell a 5 % change
//! from noise; two runs at once share the same moment, so the noise hits both
//! (docs/performance.md, session 5). Each server gets about half the machine,
//! so compare the ratios, not the absolute figures.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::matrix::case_args;
use crate::run::Settings;
use crate::workload::Case;

/// Runs `case` on `a` and on `b` at once, each in a bench of its own with
/// the same settings, and prints the comparison.
pub fn run(a: &Path, b: &Path, case: &Case, settings: &Settings) -> Result<()> {
    let me = std::env::current_exe()?;
    let spawn = |bin: &Path| {
        Command::new(&me)
            .args(case_args(case, settings))
            .arg("--wabiz")
            .arg(bin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start a bench on {}", bin.display()))
    };
    let (run_a, run_b) = (spawn(a)?, spawn(b)?);
    let (out_a, out_b) = (run_a.wait_with_output()?, run_b.wait_with_output()?);
    if !out_a.status.success() || !out_b.status.success() {
        bail!(
            "a bench failed:\n{}\n{}",
            String::from_utf8_lossy(&out_a.stdout),
            String::from_utf8_lossy(&out_b.stdout)
        );
    }
    let rows_a = table(&String::from_utf8_lossy(&out_a.stdout));
    let rows_b = table(&String::from_utf8_lossy(&out_b.stdout));
    println!(
        "wabiz bench, {} on {}, two runs at once: A = {}, B = {}",
        case.workload.name(),
        case.engine_label(),
        a.display(),
        b.display()
    );
    println!();
    println!("| measure | A | B | B ÷ A |");
    println!("|---|---:|---:|---:|");
    for (name, va) in &rows_a {
        let Some((_, vb)) = rows_b.iter().find(|(n, _)| key(n) == key(name)) else { continue };
        let ratio = match (first_number(va), first_number(vb)) {
            (Some(x), Some(y)) if x != 0.0 => format!("{:.3}", y / x),
            _ => "–".to_owned(),
        };
        println!("| {name} | {va} | {vb} | {ratio} |");
    }
    Ok(())
}

/// The `| measure | value |` rows of a bench's output (the header rows left out).
fn table(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim().strip_prefix('|')?.strip_suffix('|')?.split('|').map(str::trim).collect();
            match cells.as_slice() {
                [name, value] if *name != "measure" && !name.starts_with("---") => {
                    Some(((*name).to_owned(), (*value).to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}

/// A row's name without its counts (`statuses delivered (of 630825)`,
/// `… (382 probes)`), which differ between the two runs.
fn key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('(') {
        let close = rest[open..].find(')').map_or(rest.len(), |c| open + c + 1);
        out.push_str(&rest[..open]);
        let group = &rest[open..close];
        if !group.chars().any(|c| c.is_ascii_digit()) {
            out.push_str(group);
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// The first number of a cell (`2.54 ms / 6.00 ms` → 2.54).
fn first_number(cell: &str) -> Option<f64> {
    let start = cell.find(|c: char| c.is_ascii_digit())?;
    let rest = &cell[start..];
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_and_the_first_number_of_each_cell() {
        let out = "wabiz bench: 10 s per route\n\n| measure | value |\n|---|---:|\n| accepted sends/s (`POST /v1/messages`, 201) | 23158 |\n| send p50 / p99 | 2.54 ms / 6.00 ms |\n| non-201 answers / socket errors | 0 / 0 |\n";
        let rows = table(out);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], ("accepted sends/s (`POST /v1/messages`, 201)".to_owned(), "23158".to_owned()));
        assert_eq!(first_number(&rows[0].1), Some(23158.0));
        assert_eq!(first_number(&rows[1].1), Some(2.54));
        assert_eq!(first_number("57 µs"), Some(57.0));
        assert_eq!(first_number("–"), None);
        assert_eq!(key("statuses delivered (of 630825)"), key("statuses delivered (of 7)"));
        assert_eq!(key("send → delivered callback p50 / p99 (382 probes)"), "send → delivered callback p50 / p99 ");
        assert_ne!(key("statuses delivered/s (first to last callback)"), key("statuses delivered (of 7)"));
    }
}
