# Shared by containers/build-images.sh, offline-base-images.sh and offline-service-images.sh
# (sourced, not run): the Debian mirror settings and the slim Debian stand-in image.
#
# Environment (each has a default):
#   DEBIAN_MIRROR=URL       apt mirror (default http://deb.debian.org/debian)
#   DEBIAN_SUITE=NAME       Debian release (default bookworm: the app image's stand-ins, which
#                           are not sandbox images; build-images.sh defaults to trixie)
#   DEBOOTSTRAP_CACHE=DIR   where downloaded .debs are kept between builds and runs
#                           (default /var/cache/devmentor/debootstrap)
#   BUILD_DIR=DIR           where root file systems are assembled (default /var/tmp)
#   FORCE=1                 rebuild images that already exist

FORCE=${FORCE:-0}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${DEBIAN_SUITE:-bookworm}
CACHE_DIR=${DEBOOTSTRAP_CACHE:-/var/cache/devmentor/debootstrap}
BUILD_DIR=${BUILD_DIR:-/var/tmp}

# True when the image exists and FORCE=1 is not set.
have_image() { [[ $FORCE != 1 ]] && docker image inspect "$1" >/dev/null 2>&1; }

# offline_preflight: root, debootstrap and a reachable Docker engine, or a clear error.
offline_preflight() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap needs it)"
    command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "docker is not reachable: start dockerd"
    mkdir -p "$CACHE_DIR" "$BUILD_DIR"
}

# debian_slim_image SUITE IMAGE WORKDIR: a stand-in for the official debian:SUITE-slim image,
# a `debootstrap --variant=minbase` root file system imported with `docker import` (root user,
# apt pointed at MIRROR). Skipped when IMAGE exists (unless FORCE=1).
debian_slim_image() {
    local suite=$1 image=$2 work=$3 rootfs
    if have_image "$image"; then
        echo "==> $image exists (FORCE=1 rebuilds it)"
        return
    fi
    echo "==> $image: debootstrap --variant=minbase $suite"
    rootfs=$work/rootfs-$suite
    debootstrap --variant=minbase --cache-dir="$CACHE_DIR" "$suite" "$rootfs" "$MIRROR" \
        >"$work/debootstrap-$suite.log" 2>&1 \
        || { tail -n 20 "$work/debootstrap-$suite.log" >&2; die "debootstrap of $suite failed"; }
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/tmp/*
    : >"$rootfs/etc/resolv.conf"
    tar --numeric-owner -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
        | docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' \
            --change "LABEL devmentor.build=offline-stand-in-for-debian-$suite-slim" \
            --message "stand-in for debian:$suite-slim (containers/offline-lib.sh)" \
            - "$image" >/dev/null
    rm -rf --one-file-system "$rootfs"
}

# offline_workdir PREFIX: a scratch folder under BUILD_DIR, removed (mounts first) on exit.
offline_workdir() {
    WORK=$(mktemp -d "$BUILD_DIR/$1.XXXXXX")
    trap offline_cleanup EXIT
}
offline_cleanup() {
    local m
    for m in $(findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r || true); do umount -l "$m" || true; done
    rm -rf --one-file-system "$WORK"
}
