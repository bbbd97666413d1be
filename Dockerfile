# syntax=docker/dockerfile:1
#
# wabiz as a container image.
#
#   docker build -t wabiz .
#   docker run -d --name wabiz -p 9090:9090 -v wabiz-data:/data wabiz
#   curl -k https://127.0.0.1:9090/
#
# One node on the embedded default: SQLite, media and the self-signed TLS
# certificate all live in the /data volume. Every `wabiz serve` option can be
# given as a WABIZ_* variable (`-e WABIZ_API_KEY=…`) or appended after the
# image name (`wabiz serve --insecure-http`). Several nodes on PostgreSQL
# behind a proxy: packaging/compose.yaml. Checked by `bash packaging/check`.

ARG RUST_VERSION=1.95

# ---- build ----------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# The rust image already has gcc (rusqlite compiles its bundled SQLite) and git.
# .git is not sent to the builder (.dockerignore), so `wabiz --version` shows
# "git unknown".
COPY Cargo.toml Cargo.lock ./
COPY build-support ./build-support
COPY crates ./crates
# The crate registry and the target folder are BuildKit cache mounts, kept
# between builds: after a source change nothing is downloaded again and only
# the workspace's own crates recompile. A cache mount is not part of the
# image, so the binary is copied out of it in the same step. The empty /data
# (and /data/media, where compose mounts the shared media volume) is made
# here because the runtime image has no shell to make it.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p wabiz \
    && install -D -m 0755 target/release/wabiz /out/usr/local/bin/wabiz \
    && install -d -m 0750 /out/data /out/data/media

# ---- runtime --------------------------------------------------------------
# distroless/cc: glibc and libgcc (what the binary links against), CA
# certificates (the Cloud relay and HTTPS webhooks check servers against
# them), /etc/passwd with a `nonroot` user (uid 65532), and nothing else: no
# shell, no package manager. That is all wabiz needs, since the health check
# is the binary's own `wabiz healthcheck` rather than curl. (debian:bookworm-
# slim with a `useradd` user would work too, at about three times the size
# and with a shell and apt inside.)
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/usr/local/bin/wabiz /usr/local/bin/wabiz
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# WABIZ_DATA_DIR: the database, media and certificate go to the volume.
# WABIZ_LISTEN: every interface of the container, so `-p` can reach it.
# A --data-dir/--listen flag still wins over these, and a --config file's
# `data-dir`/`listen` keys do not (flag > environment > file).
ENV WABIZ_DATA_DIR=/data \
    WABIZ_LISTEN=0.0.0.0:9090
VOLUME /data
EXPOSE 9090
# GET / (liveness) of the node that WABIZ_LISTEN, WABIZ_INSECURE_HTTP,
# WABIZ_DATA_DIR and WABIZ_CONFIG describe, as the node itself reads them,
# trusting the CA the node generated in $WABIZ_DATA_DIR/tls. Options given
# as flags after the image name are not seen by the check: give them as
# variables, or the URL (`-e WABIZ_HEALTHCHECK_URL=http://127.0.0.1:PORT/`,
# or `--url` as compose.yaml does). With your own certificate
# (--tls-cert-file) the URL must name a host that certificate covers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["wabiz", "healthcheck"]
# SIGTERM (docker stop) makes the node finish its requests and, in a
# multiconnect deployment, hand its master lease on at once.
STOPSIGNAL SIGTERM
ENTRYPOINT ["wabiz"]
CMD ["serve"]
