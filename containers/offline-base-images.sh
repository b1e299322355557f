#!/usr/bin/env bash
# Builds stand-ins for the two official base images of containers/app.Dockerfile on a machine
# that cannot pull from a registry, so the application image can still be built and tried:
#
#   containers/offline-base-images.sh          # prints the two build arguments to use
#   docker build -f containers/app.Dockerfile \
#       --build-arg RUST_IMAGE=devmentor/offline-rust:bookworm \
#       --build-arg RUNTIME_IMAGE=devmentor/offline-debian:bookworm-slim -t devmentor/app:latest .
#
#   devmentor/offline-debian:bookworm-slim  stands in for debian:bookworm-slim: a Debian
#       `debootstrap --variant=minbase` root file system, imported with `docker import`, root user.
#       `DEBIAN_SUITE=trixie containers/offline-base-images.sh --debian-only` makes only this one,
#       for trixie (devmentor/offline-debian:trixie-slim, the base of the sandbox images'
#       Dockerfiles; tests/prod_dockerfile.rs) and prints `DEBIAN_IMAGE=<it>`.
#   devmentor/offline-rust:bookworm         stands in for rust:1-slim-bookworm: the above plus gcc,
#       libc6-dev and ca-certificates (from Debian's apt mirror) and THIS machine's Rust toolchain
#       (`rustc --print sysroot`: bin/ and lib/ only) with this machine's crates.io download cache
#       (~/.cargo/registry/{index,cache}), so `cargo build --locked` needs no network
#       (CARGO_NET_OFFLINE=true). Every crate of Cargo.lock must be in that cache: run
#       `cargo fetch --locked` (or any build of the project) first.
#
# Production never uses these: it builds with the official images (the Dockerfile's defaults).
# The app image is not a sandbox image: it stays on bookworm (the default here), while the
# sandbox images are Debian 13's (containers/build-images.sh defaults to trixie).
#
# Environment:
#   FORCE=1                 rebuild images that already exist (the Rust one is also rebuilt when
#                           the toolchain or the crate cache changed)
#   DEBIAN_MIRROR, DEBIAN_SUITE, DEBOOTSTRAP_CACHE, BUILD_DIR  see containers/offline-lib.sh
#   CARGO_HOME              where the crates.io cache is read from (default ~/.cargo)
set -euo pipefail

CONTAINERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { printf 'offline-base-images: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=containers/offline-lib.sh
source "$CONTAINERS_DIR/offline-lib.sh"
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
DEBIAN_IMAGE=devmentor/offline-debian:$SUITE-slim
RUST_IMAGE=devmentor/offline-rust:$SUITE

offline_preflight
[[ ${1:-} == --debian-only ]] || command -v rustc >/dev/null || die "rustc is not on PATH: this script copies this machine's toolchain"
offline_workdir devmentor-offline-base

debian_slim_image "$SUITE" "$DEBIAN_IMAGE" "$WORK"
if [[ ${1:-} == --debian-only ]]; then
    echo "DEBIAN_IMAGE=$DEBIAN_IMAGE"
    exit 0
fi

# The Rust stand-in is rebuilt whenever the toolchain or the crate cache changed (a new
# dependency in Cargo.lock), so it always carries every crate the build needs.
sysroot=$(rustc --print sysroot)
version=$(rustc --version)
inputs=$({ echo "$version"; ls -R "$CARGO_HOME/registry/cache" 2>/dev/null; } | sha256sum | cut -c1-16)
current=$(docker image inspect -f '{{index .Config.Labels "devmentor.inputs"}}' "$RUST_IMAGE" 2>/dev/null || true)
if have_image "$RUST_IMAGE" && [[ $current == "$inputs" ]]; then
    echo "==> $RUST_IMAGE is up to date (FORCE=1 rebuilds it)"
else
    echo "==> $RUST_IMAGE: $version from $sysroot, crates from $CARGO_HOME/registry"
    [[ -d $CARGO_HOME/registry/cache && -d $CARGO_HOME/registry/index ]] \
        || die "no crates.io cache in $CARGO_HOME/registry: run 'cargo fetch --locked' in the project first"
    ctx=$WORK/rust-context
    mkdir -p "$ctx/rust" "$ctx/cargo/registry"
    # Hard links when the file system allows (no copy of ~0.5 GB), a copy otherwise.
    link() { cp -al "$1" "$2" 2>/dev/null || cp -a "$1" "$2"; }
    link "$sysroot/bin" "$ctx/rust/bin"
    link "$sysroot/lib" "$ctx/rust/lib"
    link "$CARGO_HOME/registry/index" "$ctx/cargo/registry/index"
    link "$CARGO_HOME/registry/cache" "$ctx/cargo/registry/cache"
    # Only cargo and rustc are needed; the rest of the toolchain's binaries would only add size.
    find "$ctx/rust/bin" -mindepth 1 ! -name cargo ! -name rustc ! -name rustdoc -delete
    cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update \\
    && apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
COPY rust /usr/local/rust
COPY cargo /usr/local/cargo
ENV CARGO_HOME=/usr/local/cargo \\
    CARGO_NET_OFFLINE=true \\
    PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL devmentor.build=offline-stand-in-for-rust-slim devmentor.inputs=$inputs
RUN cargo --version && rustc --version
EOF
    docker build -q -t "$RUST_IMAGE" "$ctx" >/dev/null || die "building $RUST_IMAGE failed"
fi

echo "--build-arg RUST_IMAGE=$RUST_IMAGE --build-arg RUNTIME_IMAGE=$DEBIAN_IMAGE"
