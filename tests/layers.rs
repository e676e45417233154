//! The module layers hold: every `crate::` path between top-level modules points down the
//! stack (main → cli → tui/headless → session/client → monitor/image/oci → runtime → state →
//! spec), so no folder reaches up into one that builds on it, and there is no cycle.

use std::collections::BTreeSet;
use std::path::Path;

/// Each top-level module's layer: a module may use only modules of a lower layer.
const LAYERS: [(&str, u8); 16] = [
    ("spec", 0),
    ("cast", 0),
    ("printable", 0),
    ("screen", 0),
    ("state", 1),
    ("runtime", 2),
    ("image", 3),
    ("oci", 3),
    ("monitor", 3),
    ("client", 4),
    ("session", 5),
    ("headless", 6),
    ("tui", 6),
    ("cli", 7),
    ("main", 8),
    ("lib", 8),
];

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, l)| *l)
        .unwrap_or_else(|| panic!("src/{module}: give it a layer in tests/layers.rs"))
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_point_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut upward = BTreeSet::new();
    for file in all {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let from = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        // Tests may reach anywhere; comments name what they like.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let to: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if to != from && layer(&to) >= layer(&from) {
                    upward.insert(format!("{} -> {to}", rel.display()));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not point down: {upward:#?}"
    );
}
