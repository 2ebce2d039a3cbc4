#!/usr/bin/env bash
# Builds a LOCAL stand-in for the official `node:20-bookworm-slim` image, for machines that have podman
# but no registry: a Debian bookworm minbase root filesystem (debootstrap from the machine's own apt mirror)
# plus this machine's Node runtime and npm, laid out like the official image (/usr/local/bin/node,
# /usr/local/lib/node_modules/npm, user `node` uid/gid 1000, CMD ["node"]).
#
# Usage: scripts/container/make-base-image.sh [--force]
#   NODE_BASE_IMAGE  tag to create (default localhost/node-base:20)
# The image is cached: when the tag already exists nothing is done (unless --force).
set -euo pipefail

IMAGE="${NODE_BASE_IMAGE:-localhost/node-base:20}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf 'make-base-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap and chroot)"
command -v podman >/dev/null || die "podman is missing: apt-get install -y podman uidmap fuse-overlayfs slirp4netns"

if [[ $FORCE -eq 0 ]] && podman image exists "$IMAGE"; then
  log "$IMAGE already exists; reusing it (pass --force to rebuild)"
  exit 0
fi

command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"

# --- where Node comes from -----------------------------------------------------------------------
# We copy the host's runtime rather than apt-installing `nodejs` in the chroot: Debian bookworm's own
# nodejs is 18.x, below the app's engines (>= 20.19); the host's node comes from NodeSource's .deb,
# whose repository may not be reachable from here.
NODE_BIN="$(readlink -f "$(command -v node)")" || die "no node on PATH"
NODE_VERSION="$("$NODE_BIN" -p 'process.versions.node')"
"$NODE_BIN" -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) process.exit(1);' || die "host node $NODE_VERSION is older than 20.19"
NPM_CLI="$(readlink -f "$(command -v npm)")" || die "no npm on PATH"
NPM_DIR="$(cd "$(dirname "$NPM_CLI")/.." && pwd)"          # …/node_modules/npm/bin/npm-cli.js → …/npm
[[ -f "$NPM_DIR/package.json" ]] || die "cannot find npm's package folder from $NPM_CLI"
log "node $NODE_VERSION from $NODE_BIN, npm $(node -p "require('$NPM_DIR/package.json').version") from $NPM_DIR"

# --- which Debian mirror --------------------------------------------------------------------------
# The machine's own apt sources are known to work here; take the first plain Debian archive from them.
MIRROR="${DEBIAN_MIRROR:-}"
if [[ -z "$MIRROR" ]]; then
  MIRROR="$(
    { grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
      grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -E 's/\[[^]]*\]//' | awk '{print $2}'
    } | grep -E '/debian/?$' | head -n1 || true
  )"
fi
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
log "Debian mirror: $MIRROR"

# --- root filesystem ------------------------------------------------------------------------------
WORK="$(mktemp -d /var/tmp/node-base.XXXXXX)"
cleanup() {
  # debootstrap may leave proc/sys mounted when it fails half-way; unmount before deleting.
  for m in proc sys dev/pts dev; do umount -l "$WORK/rootfs/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
ROOTFS="$WORK/rootfs"
# Commands inside the new root run with a clean environment: the host's variables (e.g. NODE_EXTRA_CA_CERTS)
# must not leak into what we verify there.
in_root() { env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$ROOTFS" "$@"; }

started=$SECONDS
log "debootstrap --variant=minbase bookworm (takes a minute or two)…"
# minbase already brings libstdc++6 and libgcc-s1 (apt needs them), which is all node links against
# besides glibc; see `ldd $(command -v node)`.
debootstrap --variant=minbase --arch=amd64 bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

# Node and npm where the official image has them.
install -D -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"

# This machine reaches the npm registry through a TLS-inspecting proxy whose CA is only in the host's
# trust store (the host sets NODE_EXTRA_CA_CERTS for it). A build stage running `npm ci` needs the same
# trust, so the LOCAL base image carries the host's bundle and points Node at it; the official image on a
# normal network needs neither, which is why this lives here and not in the Dockerfile.
HOST_CA="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
CA_ENV=()
if [[ -s "$HOST_CA" ]]; then
  install -D -m 0644 "$HOST_CA" "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  CA_ENV=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
  log "trusting the host's CA bundle $HOST_CA inside the image"
fi

# The same unprivileged user as the official image, so `USER node` / `USER 1000` mean the same thing.
in_root groupadd --gid 1000 node
in_root useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# Prove the copied runtime runs against the chroot's own libraries (not the host's).
in_root /usr/local/bin/node -e 'require("node:crypto").randomBytes(1); console.log("node", process.version, "runs in the rootfs")' >&2
in_root /usr/local/bin/node /usr/local/bin/npm --version >/dev/null

# Slim it like the -slim images: no apt lists, caches, docs, man pages or translations; no host files
# that debootstrap copied in (the container runtime provides resolv.conf, hosts and hostname).
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
  "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.npm
: >"$ROOTFS/etc/resolv.conf"; : >"$ROOTFS/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOTFS/etc/hosts"

log "importing into podman as $IMAGE…"
old_id="$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
tar --numeric-owner -C "$ROOTFS" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'CMD ["node"]' \
  "${CA_ENV[@]}" \
  --message "bookworm minbase + node $NODE_VERSION (local stand-in for node:20-bookworm-slim)" \
  - "$IMAGE" >/dev/null

# --force leaves the previous image untagged; remove it unless images built on it still need it.
if [[ -n "$old_id" && "$old_id" != "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ]]; then
  podman rmi "$old_id" >/dev/null 2>&1 || log "previous image ${old_id:0:12} is still used by other images; kept"
fi

log "done in $((SECONDS - started)) s: $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
