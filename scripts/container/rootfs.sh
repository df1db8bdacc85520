#!/bin/sh
# Lays out the container image's whole filesystem under DEST from a static
# clip binary: DEST/fs is what distroless/static holds (CA certificates, a
# passwd and group naming the non-root user 65532) plus /usr/local/bin/clip;
# DEST/owned holds the /models volume, copied with --chown=65532:65532 (a
# COPY changes the owner of what is inside its source, not of the source
# directory itself, so /models sits one level down). Both the Dockerfile's build stage and `make image` (from
# what is on this machine, no base image pulled) run it, so the two images
# hold the same files.
# Usage: rootfs.sh DEST CLIP_BINARY [CA_BUNDLE]
set -eu
dest=$1
bin=$2
ca=${3:-/etc/ssl/certs/ca-certificates.crt}
[ -x "$bin" ] || { echo "rootfs: $bin is not an executable" >&2; exit 1; }
[ -s "$ca" ] || { echo "rootfs: no CA bundle at $ca (install ca-certificates)" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$dest/owned/models"
dest=$dest/fs
mkdir -p "$dest/usr/local/bin" "$dest/etc/ssl/certs" "$dest/tmp"
cp "$bin" "$dest/usr/local/bin/clip"
cp "$ca" "$dest/etc/ssl/certs/ca-certificates.crt"
cat > "$dest/etc/passwd" <<'P'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
P
cat > "$dest/etc/group" <<'G'
root:x:0:
nonroot:x:65532:
G
chmod 1777 "$dest/tmp"
