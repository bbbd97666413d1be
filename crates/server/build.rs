include!("../../build-support/test_tools.rs");

fn main() {
    emit_test_tool_cfgs();
    emit_git_revision();
}

/// `WABIZ_GIT_REVISION`: the commit the binary was built from (`unknown`
/// outside a git checkout, as from a source archive), with `-dirty` when
/// the tree had changes; `wabiz --version` shows it.
fn emit_git_revision() {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let revision = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(rev) if !rev.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            if dirty { format!("{rev}-dirty") } else { rev }
        }
        _ => "unknown".to_owned(),
    };
    println!("cargo::rustc-env=WABIZ_GIT_REVISION={revision}");
    // A new commit (HEAD moves, or the branch it names does) builds again.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        let dir = std::path::Path::new(&dir);
        println!("cargo::rerun-if-changed={}", dir.join("HEAD").display());
        if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo::rerun-if-changed={}", dir.join(reference).display());
        }
        println!("cargo::rerun-if-changed={}", dir.join("index").display());
    }
}
