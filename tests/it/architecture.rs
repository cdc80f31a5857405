//! The layering of ARCHITECTURE.md, checked on the source: every top-level module of `src/`
//! imports only the layers below it, `knowledge` and `privacy` know nothing of each other, queue
//! backends know nothing of jobs, and handlers know nothing of queues or the idempotency store.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer: a module may import only modules of a lower layer.
const LAYERS: &[(&str, u8)] = &[
    ("contract", 0),
    ("cpu", 0),
    ("text", 0),
    ("config", 1),
    ("models", 2),
    ("state", 2),
    ("queue", 2),
    ("knowledge", 3),
    ("privacy", 3),
    ("triage", 4),
    ("runtime", 4),
    ("handlers", 5),
    ("app", 6),
    ("eval", 7),
    ("cli", 8),
];

/// Imports the layer order alone would allow but the architecture forbids: (from, path prefix).
const FORBIDDEN: &[(&str, &str)] = &[
    ("queue", "contract"),
    ("handlers", "queue"),
    ("handlers", "state::jobs"),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::a::b` paths a file names, outside comments.
fn imports(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).expect("source is readable");
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let pattern = regex::Regex::new(r"\bcrate::(\w+(?:::\w+)?)").expect("pattern");
    pattern
        .captures_iter(&code)
        .map(|c| c[1].to_owned())
        .collect()
}

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("inside src");
        let top = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|name| name.trim_end_matches(".rs").to_owned())
            .unwrap_or_default();
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(own) = layer(&top) else {
            wrong.push(format!("{top}: a top-level module missing from LAYERS"));
            continue;
        };
        for path in imports(file) {
            let target = path.split("::").next().unwrap_or_default();
            if target == top {
                continue;
            }
            match layer(target) {
                Some(other) if other < own => {}
                Some(_) => wrong.push(format!("{}: imports crate::{path}", relative.display())),
                None => {}
            }
            for (from, prefix) in FORBIDDEN {
                if top == *from && (path == *prefix || path.starts_with(&format!("{prefix}::"))) {
                    wrong.push(format!(
                        "{}: must not import crate::{path}",
                        relative.display()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

/// Crates that do one text job, and the one file of `src/` allowed to use each: a second
/// language detector, entity decoder or CSV reader would name them somewhere else.
const ONE_PLACE: &[(&str, &str)] = &[
    ("whatlang::", "src/text/language.rs"),
    ("html_escape::", "src/text/html.rs"),
    ("csv::", "src/eval/classify.rs"),
];

#[test]
fn each_text_tool_is_written_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let text = std::fs::read_to_string(file).expect("source is readable");
        for (name, home) in ONE_PLACE {
            if text.contains(name) && relative != Path::new(home) {
                wrong.push(format!(
                    "{}: uses {name} (only {home} may)",
                    relative.display()
                ));
            }
        }
        // a hand-written entity table or sentence splitter names these
        for (needle, what) in [
            ("\"amp\" =>", "an HTML entity table"),
            ("fn split_segment", "a sentence splitter"),
            ("fn is_abbreviation", "a sentence splitter"),
        ] {
            if text.contains(needle) && !relative.starts_with("src/text") {
                wrong.push(format!("{}: {what} outside src/text", relative.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "written twice:\n{}", wrong.join("\n"));
}
