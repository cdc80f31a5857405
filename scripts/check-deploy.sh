#!/usr/bin/env bash
# Checks the container deployment without Docker:
#   1. docker-compose.yml validates with `docker-compose config -q` (Debian's docker-compose 1.29,
#      installed with apt-get when the command is missing; a file 1.29 accepts also runs on
#      Compose v2), with dummy values for the variables the file requires;
#   2. the Dockerfile's `models` stage, run the same way outside Docker: the same two fetch
#      scripts with the same JAMBO_MODEL_CACHE layout, into a fresh temp dir, then a check that
#      every file the runtime needs is there. Keep the commands below and that stage's RUN in step.
#
# Usage: scripts/check-deploy.sh   (needs python3 with pip and network access to PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "== $*"; }
die() { echo "check-deploy: error: $*" >&2; exit 1; }

# --- 1. the compose file ---------------------------------------------------------------------
step "docker-compose.yml"
if ! command -v docker-compose >/dev/null; then
    echo "docker-compose not found; installing Debian's package"
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
echo "docker-compose $(docker-compose version --short)"
# Dummy values for the ${VAR:?} checks only; never real secrets.
export JAMBO__AMQP__PASSWORD=check-deploy-dummy JAMBO__STATE__PASSWORD=check-deploy-dummy
compose() { docker-compose -f docker-compose.yml "$@"; }
compose config -q
services=$(compose config --services | sort | tr '\n' ' ')
[[ "$services" == "postgres qdrant rabbitmq worker-1 worker-2 " ]] ||
    die "unexpected services: $services"
# Every published port is on 127.0.0.1 only (1.29 prints them as host_ip:published:target/proto).
ports=$(compose config |
    awk '/^    ports:$/ { on = 1; next } on && /^    - / { print $2; next } { on = 0 }')
[[ -n "$ports" ]] || die "no published ports found"
public=$(grep -v '^127\.0\.0\.1:' <<<"$ports" || true)
[[ -z "$public" ]] || die "published beyond 127.0.0.1: $public"
# A missing secret must stop the file, not start services without one.
for secret in JAMBO__AMQP__PASSWORD JAMBO__STATE__PASSWORD; do
    if env -u "$secret" docker-compose -f docker-compose.yml config -q 2>/dev/null; then
        die "docker-compose.yml accepted a missing $secret"
    fi
done
unset JAMBO__AMQP__PASSWORD JAMBO__STATE__PASSWORD
echo "ok: valid; services: $services; ports: $(tr '\n' ' ' <<<"$ports")"

# --- 2. the models stage ---------------------------------------------------------------------
step "models stage (as in the Dockerfile, into a temp dir)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export JAMBO_MODEL_CACHE="$tmp/models"
# Same as the Dockerfile's models stage: the two scripts, the names under the cache.
bash scripts/fetch-models.sh
bash scripts/fetch-name-lists.sh "$JAMBO_MODEL_CACHE/names"
rm -f "$JAMBO_MODEL_CACHE/.lock"
chmod -R a+rX "$JAMBO_MODEL_CACHE"

# What the runtime loads (src/models/model_cache.rs, src/models/setup.rs is_ready, the
# redactor's name lists), plus the licence files that ship with the weights.
required=(
    minilm-l6-v2-int8/model.onnx
    minilm-l6-v2-int8/tokenizer.json
    minilm-l6-v2-int8/config.json
    minilm-l6-v2-int8/LICENSE
    minilm-l6-v2-int8/NOTICE
    rampart/model_q4.onnx
    rampart/tokenizer.json
    rampart/config.json
    rampart/LICENSE
    rampart/NOTICE
    onnxruntime/libonnxruntime.so.1.31.1
    onnxruntime/libonnxruntime.so
    onnxruntime/LICENSE
    onnxruntime/ThirdPartyNotices.txt
    names/first_names.txt
    names/last_names.txt
    names/SOURCE
)
missing=()
for file in "${required[@]}"; do
    # -f follows the libonnxruntime.so link
    [[ -f "$JAMBO_MODEL_CACHE/$file" && -s "$JAMBO_MODEL_CACHE/$file" ]] || missing+=("$file")
done
[[ ${#missing[@]} -eq 0 ]] || die "missing in the model cache: ${missing[*]}"
# Readable by anyone (the image's jambo user does not own the files).
unreadable=$(find "$JAMBO_MODEL_CACHE" \( -type f ! -perm -o=r \) -o \( -type d ! -perm -o=rx \))
[[ -z "$unreadable" ]] || die "not world-readable: $unreadable"
[[ -z "$(find "$JAMBO_MODEL_CACHE" -name '.download.*' -o -name '*.part' -o -name .lock)" ]] ||
    die "leftover temp files in the model cache"
for file in names/first_names.txt names/last_names.txt; do
    lines=$(wc -l <"$JAMBO_MODEL_CACHE/$file")
    [[ $lines -gt 1000 ]] || die "$file has only $lines names"
done
echo "ok: ${#required[@]} files, $(du -sh "$JAMBO_MODEL_CACHE" | cut -f1) in the cache"
echo "check-deploy: ok"
