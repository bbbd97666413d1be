// Shared by the build scripts of the crates whose tests need something from
// outside the workspace. Each such test carries
// `#[cfg_attr(not(CFG), ignore = "…")]`, so a run without the tool lists it as
// skipped in the runner's summary instead of passing it silently.
//
// - `wabiz_test_pg`: `WABIZ_TEST_PG_URL` names a PostgreSQL server;
// - `wabiz_test_python`: `WABIZ_TEST_PYTHON` names an interpreter with the
//   real clients installed;
// - `wabiz_test_wrk`: `wrk` is on the PATH;
// - `wabiz_test_browser`: `WABIZ_TEST_CHROMIUM` names a Chromium executable
//   (the browser tests also need Playwright in `WABIZ_TEST_PYTHON`).

use std::path::Path;

fn emit_test_tool_cfgs() {
    for cfg in ["wabiz_test_pg", "wabiz_test_python", "wabiz_test_wrk", "wabiz_test_browser"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    for (var, cfg) in [
        ("WABIZ_TEST_PG_URL", "wabiz_test_pg"),
        ("WABIZ_TEST_PYTHON", "wabiz_test_python"),
        ("WABIZ_TEST_CHROMIUM", "wabiz_test_browser"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var(var).is_ok_and(|v| !v.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    println!("cargo::rerun-if-env-changed=PATH");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<_> = std::env::split_paths(&path).filter(|d| d.is_dir()).collect();
    match dirs.iter().map(|d| d.join("wrk")).find(|w| w.is_file()) {
        Some(wrk) => {
            println!("cargo::rustc-cfg=wabiz_test_wrk");
            println!("cargo::rerun-if-changed={}", wrk.display());
        }
        // Installing wrk later adds a file to one of these folders, which
        // runs this script again.
        None => dirs.iter().filter(|d| Path::new(d).is_absolute()).for_each(|d| {
            println!("cargo::rerun-if-changed={}", d.display());
        }),
    }
}
