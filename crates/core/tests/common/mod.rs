//! Loading of the reference values made by real PyTorch, shared by the
//! golden test files.

use std::path::PathBuf;

use serde_json::Value;

/// Returns the folder of reference values: `ONECYCLE_GOLDEN_DIR`, else the
/// first `shared/golden` folder above this crate.
fn golden_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ONECYCLE_GOLDEN_DIR") {
        return PathBuf::from(dir);
    }
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .map(|dir| dir.join("shared").join("golden"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/golden directory above {}; set ONECYCLE_GOLDEN_DIR",
                manifest_dir.display()
            )
        })
}

/// Reads and parses one reference file, panicking with its path on failure.
pub fn load_golden(name: &str) -> Value {
    let path = golden_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("failed to parse {}: {e}", path.display()))
}
