//! The search latency benchmark of `benches/search_latency.rs`, as an example, so it can run in
//! the dev profile (dependencies at opt-level 2) without a release build of qdrant-edge:
//! `cargo run --example search_latency`.

#[path = "../benches/search_latency.rs"]
mod bench;

fn main() {
    bench::main();
}
