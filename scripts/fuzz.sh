#!/usr/bin/env bash
# Fuzz the redactor with cargo-fuzz (libFuzzer): fuzz/fuzz_targets/redact.rs.
#
#   ./scripts/fuzz.sh [fast|default] [SECONDS]     (defaults: fast 600)
#
# fast:    the fast tier alone (RedactorConfig::default()).
# default: the worker's default configuration: name lists and the gated model tier from the model
#          cache (run scripts/fetch-models.sh and scripts/fetch-name-lists.sh first).
#
# Only stable Rust is on this machine: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its flags, and no
# sanitizer is used (-s none; the redactor has no unsafe code). The instrumented build of the
# whole dependency tree took 36 minutes cold on 2 cores; it is cached in $FUZZ_TARGET_DIR. After
# a crash cargo-fuzz rebuilds the target once more to print the input. Seeds: a few hand-written
# texts, plus the first 300 texts of Presidio's evaluation set when ../shared/datasets is there.
# Crashes land in fuzz/artifacts/redact/; the corpus grows in fuzz/corpus/redact-TIER/.
set -euo pipefail
cd "$(dirname "$0")/.."

TIER="${1:-fast}"
SECONDS_BUDGET="${2:-600}"
FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jambo-worker/fuzz-target}"
MODELS="${JAMBO_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jambo-worker/models}"
DATA="${JAMBO_DATASETS:-../shared/datasets}"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2

case "$TIER" in
  fast) unset JAMBO_FUZZ_MODELS JAMBO_FUZZ_TIER ;;
  default) export JAMBO_FUZZ_MODELS="$MODELS" ;;
  *) echo "fuzz: tier is fast or default, not $TIER" >&2; exit 2 ;;
esac

CORPUS="fuzz/corpus/redact-$TIER"
mkdir -p "$CORPUS"
seed() { printf '%s' "$2" > "$CORPUS/seed-$1"; }
seed name "Hi, my name is Ingrid Solberg and I live at 42 Harbour Road, Leeds LS1 4AB."
seed contact "Call +44 20 7946 0958 or mail ingrid.solberg@example.com, card 4111 1111 1111 1111."
seed ids "IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, from 192.168.0.1 and 2001:db8::1"
seed secrets "password: hunter2xYz9!Qq token=sk-abcdefghijklmnopqrstuvwxyz012345 Bearer eyJhbGciOi.x.y"
seed placeholders "Thanks <PERSON_1>, your <EMAIL_2> is noted; <PERSON_x> <PHONE_12"
seed rtl "مرحبا، اسمي أحمد — שלום, 電話 03-1234-5678, born 01/02/1990"
if [ -f "$DATA/presidio_synth/synth_dataset_v2.json" ] && command -v jq >/dev/null; then
  i=0
  while IFS= read -r line; do
    printf '%s' "$line" | jq -j . > "$CORPUS/presidio-$i"
    i=$((i + 1))
  done < <(jq -c '.[:300][] | .full_text' "$DATA/presidio_synth/synth_dataset_v2.json")
fi

RUSTC_BOOTSTRAP=1 cargo fuzz run redact -s none --target-dir "$FUZZ_TARGET_DIR" "$CORPUS" -- \
  -dict=fuzz/redact.dict -max_total_time="$SECONDS_BUDGET" -max_len=4096 -timeout=20 \
  -rss_limit_mb=4096 -print_final_stats=1
