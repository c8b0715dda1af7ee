#![cfg(not(target_arch = "wasm32"))]
//! The data-root rule exists twice, in Rust (src/data_root.rs: the library,
//! build.rs) and in shell (scripts/data-root.sh: the scripts, the page tests):
//! they must name the same folder.

use std::process::Command;

fn script(setting: Option<&str>) -> String {
    let mut cmd = Command::new("scripts/data-root.sh");
    match setting {
        Some(v) => cmd.env("VAELAB_DATA", v),
        None => cmd.env_remove("VAELAB_DATA"),
    };
    let out = cmd.output().expect("scripts/data-root.sh runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn the_shell_rule_and_the_rust_rule_agree() {
    for setting in [None, Some("some/where"), Some("/abs/data")] {
        let rust = vaelab::data_root_with(setting.map(Into::into));
        assert_eq!(
            script(setting),
            rust.to_str().unwrap(),
            "VAELAB_DATA={setting:?}"
        );
    }
}
