# The Dev-Mentor application image: one binary, `devmentor`, run with a role per service
# (see docker-compose.yml). Multi-stage: built with the official Rust image, run on slim Debian
# as a non-root user.
#
#   docker build -f containers/app.Dockerfile -t devmentor/app:latest .
#
# The base images are build arguments, so a registry-less machine can substitute local ones:
#   docker build --build-arg RUST_IMAGE=my/rust --build-arg RUNTIME_IMAGE=my/debian …
ARG RUST_IMAGE=rust:1-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a code change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY actors/Cargo.toml actors/Cargo.toml
RUN mkdir -p src actors/src \
    && echo 'fn main() {}' > actors/src/main.rs && touch src/lib.rs \
    && cargo build --release --locked -p devmentor-actors \
    && rm -rf src actors/src
COPY . .
# Make cargo see the real sources as newer than the placeholder build.
RUN touch src/lib.rs actors/src/main.rs \
    && cargo build --release --locked -p devmentor-actors \
    && install -D target/release/devmentor /out/devmentor

FROM ${RUNTIME_IMAGE}
RUN set -eux; \
    if command -v apt-get >/dev/null; then \
      apt-get update; apt-get install -y --no-install-recommends ca-certificates curl; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --system --gid 10000 devmentor; \
    useradd --system --uid 10000 --gid 10000 --home-dir /app --shell /usr/sbin/nologin devmentor
WORKDIR /app
COPY --from=build /out/devmentor /usr/local/bin/devmentor
# Language packs (language.toml, error catalogues) and templates: read at run time too.
COPY containers /app/containers
COPY templates /app/templates
COPY devmentor.example.toml /app/devmentor.example.toml
ENV DEVMENTOR_ENV=production \
    LOG_FORMAT=json \
    HTTP_ADDR=0.0.0.0:8080 \
    SANDBOX_LANGUAGES_DIR=/app/containers \
    RUST_LOG=devmentor=info,devmentor_actors=info
USER 10000:10000
EXPOSE 8080
# The admin role answers /healthz; worker-only containers override this in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${HTTP_ADDR##*:}/healthz" >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/devmentor"]
CMD ["run"]
