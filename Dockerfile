# Crier in a container: a build stage with the Rust toolchain, a small
# runtime stage with the binary only. docs/deploy.md explains the volume,
# the config and the health check.
#
#   docker build -t crier .
#   docker run -d --name crier -v crier-data:/var/lib/crier \
#     -v "$PWD/config.toml:/etc/crier/config.toml:ro" \
#     -e TELEGRAM_TOKEN -e DISCORD_TOKEN crier

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The build command README.md's "Deploy" section documents (.ci/run checks
# that they agree).
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/crier --create-home --shell /usr/sbin/nologin crier
COPY --from=build /src/target/release/crier /usr/local/bin/crier
USER crier
WORKDIR /var/lib/crier
# The delivery log (SQLite) lives here: keep it on a volume, or every
# restart starts from an empty log. Point `[storage] path` at it.
VOLUME ["/var/lib/crier"]
ENV CRIER_CONFIG=/etc/crier/config.toml
# Crier stops gracefully on SIGTERM (docker stop): deliveries in flight
# finish within `[delivery] shutdown_grace`.
STOPSIGNAL SIGTERM
# Healthy when the health endpoint answers; without a listener
# (CRIER_HEALTH_URL unset) the check only says the container runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD [ -z "$CRIER_HEALTH_URL" ] || curl -fsS "$CRIER_HEALTH_URL" > /dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/crier"]
CMD ["run"]
