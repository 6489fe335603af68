//! Tests of the Java Card API stubs in `applets/api`.
//!
//! * the committed stub sources are what `api_stub_gen` makes of `api-surface.md`;
//! * the compiled stubs declare exactly the classes, members, modifiers, `throws` clauses and
//!   constant values of `api-tokens.tsv` / `api-classes.tsv` (read back with the JDK's `javap`,
//!   an oracle independent of the generator's parser);
//! * every golden applet compiles against the stub jar alone, and javac then produces the same
//!   class files (`javap -v`, constant pool and bytecode) as with Oracle's API jar.

use oxicard_tests::api_stub_gen::{stub_source_dir, ApiSurface};
use std::path::Path;

#[test]
fn regenerate_api_stubs_is_current() {
    let surface = ApiSurface::load().expect("api-surface.md parses");
    let generated = surface.generate_sources().expect("stub sources generate");
    let dir = stub_source_dir();
    let regenerate = std::env::var("OXICARD_REGENERATE").is_ok_and(|v| v == "1");
    let committed = java_files_under(&dir);
    let mut stale = Vec::new();
    for (path, text) in &generated {
        let file = dir.join(path);
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            if regenerate {
                std::fs::create_dir_all(file.parent().expect("stub file has a parent"))
                    .expect("create stub directory");
                std::fs::write(&file, text).expect("write stub source");
            } else {
                stale.push(path.clone());
            }
        }
    }
    for path in committed.iter().filter(|p| !generated.contains_key(*p)) {
        if regenerate {
            std::fs::remove_file(dir.join(path)).expect("remove obsolete stub source");
        } else {
            stale.push(format!("{path} (not generated any more)"));
        }
    }
    assert!(
        stale.is_empty(),
        "stub sources differ from api-surface.md; run \
         `OXICARD_REGENERATE=1 cargo test -p oxicard-tests --test api_stubs`: {stale:?}"
    );
}

/// Relative paths (with `/`) of all `.java` files under `dir`.
fn java_files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "java") {
                let relative = path.strip_prefix(dir).expect("path is under dir");
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}
