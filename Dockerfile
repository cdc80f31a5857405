# Multi-stage build of jambo-worker: a Rust toolchain image builds it, a slim Debian runs it.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY fixtures ./fixtures
COPY prompts ./prompts
RUN cargo build --release --locked --bin jambo-worker

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/jambo --create-home jambo
COPY --from=build /src/target/release/jambo-worker /usr/local/bin/jambo-worker
USER jambo
WORKDIR /var/lib/jambo
VOLUME ["/var/lib/jambo/data"]
EXPOSE 9464
ENTRYPOINT ["jambo-worker", "--data-dir", "/var/lib/jambo/data"]
CMD ["run", "--http", "0.0.0.0:9464"]
