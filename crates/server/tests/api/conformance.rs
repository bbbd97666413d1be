//! The server proved against API descriptions by schemathesis (PyPI), a
//! schema-driven tester (issue 21 §2): every check it has, all four phases
//! (the examples, coverage of each schema's edges, fuzzing, and stateful
//! sequences along the document's links). The exceptions, each with its
//! reason, are in `tests/conformance/schemathesis.toml`; how to run them by
//! hand is in `tests/conformance/README.md`.
//!
//! Needs an interpreter whose environment has schemathesis (`.ci/run`
//! installs it next to the real clients); without one the tests are listed
//! as skipped.

use std::path::PathBuf;
use std::process::Command;

use crate::helpers::*;

/// The interpreter of a virtualenv that has schemathesis installed.
const PYTHON_VAR: &str = "WABIZ_TEST_PYTHON";

/// Examples per operation in the fuzzing phases, and the seed: fixed, so a
/// run repeats.
const EXAMPLES: &str = "25";
const SEED: &str = "1";

fn config() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/schemathesis.toml")
}

/// `schemathesis` beside the interpreter (the virtualenv's `bin`).
fn schemathesis(test: &str) -> PathBuf {
    let python = match std::env::var(PYTHON_VAR) {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!("{test}: built with {PYTHON_VAR} set, run without it"),
    };
    let cli = python.with_file_name("schemathesis");
    assert!(cli.exists(), "{test}: {} is missing: pip install schemathesis==4.32.5", cli.display());
    cli
}

/// Runs schemathesis with `args`; its report when it fails.
async fn run(cli: PathBuf, args: Vec<String>, env: Vec<(&'static str, String)>) {
    let mut cmd = Command::new(cli);
    cmd.args(&args).envs(env).env("NO_COLOR", "1").env("SCHEMATHESIS_TELEMETRY", "false");
    let stdout = run_program(cmd, "schemathesis (it found problems)").await;
    assert!(stdout.contains("Tested:"), "schemathesis tested nothing:\n{stdout}");
}

/// The credentials the configuration names: the run's token, admin's
/// password (for the login operation) and a token that logout may spend.
async fn credentials(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        ("WABIZ_TOKEN", app.admin_token().await),
        ("WABIZ_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("WABIZ_LOGOUT_TOKEN", app.admin_token().await),
    ]
}

/// All four phases.
const PHASES: &str = "examples,coverage,fuzzing,stateful";

/// `--phases`, the examples per operation and the seed, then `extra`.
fn phases(phases: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--phases", phases, "-n", EXAMPLES, "--seed", SEED].map(String::from).to_vec();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// wabiz against its own `/openapi.json`, every check on.
#[cfg_attr(not(wabiz_test_python), ignore = "needs schemathesis: set WABIZ_TEST_PYTHON")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_meets_its_own_document() {
    let cli = schemathesis("the_server_meets_its_own_document");
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let env = credentials(&app).await;
    // `--config-file` belongs before `run`.
    let mut args = vec!["--config-file".to_owned(), config().to_owned(), "run".to_owned(), app.url("/openapi.json")];
    args.extend(phases(PHASES, &[]));
    run(cli, args, env).await;
}

/// Registration on a server of its own: a code request leaves the node not
/// ready until the code is verified, which the main run cannot afford.
#[cfg_attr(not(wabiz_test_python), ignore = "needs schemathesis: set WABIZ_TEST_PYTHON")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_meets_its_own_document() {
    let cli = schemathesis("registration_meets_its_own_document");
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    let token = app.admin_token().await;
    let registration = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/registration.toml");
    let mut args =
        vec!["--config-file".to_owned(), registration.to_owned(), "run".to_owned(), app.url("/openapi.json")];
    args.extend(["-H".to_owned(), format!("Authorization: Bearer {token}")]);
    for id in ["post_v1_account", "post_v1_account_verify"] {
        args.extend(["--include-operation-id".to_owned(), id.to_owned()]);
    }
    // No stateful phase: the two have no links between them to follow.
    args.extend(phases("examples,coverage,fuzzing", &[]));
    run(cli, args, Vec::new()).await;
}

/// The community description of the original API
/// (`shared/reference/onprem-openapi.yaml`, pointed at `/v1`): no request
/// it can make gets a server error. Its other differences from wabiz are
/// the description's own (placeholders as examples, 200 for every success,
/// `/v1/metrics`) and are listed in docs/decisions.md.
#[cfg_attr(not(wabiz_test_python), ignore = "needs schemathesis: set WABIZ_TEST_PYTHON")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_description_finds_no_server_error() {
    let cli = schemathesis("the_reference_description_finds_no_server_error");
    let reference = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/onprem-openapi.yaml");
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let env = credentials(&app).await;
    let mut args = vec![
        "--config-file".to_owned(),
        config().to_owned(),
        "run".to_owned(),
        reference.to_owned(),
        "--url".to_owned(),
        app.url("/v1"),
    ];
    args.extend(phases(PHASES, &["--checks", "not_a_server_error"]));
    run(cli, args, env).await;
}
