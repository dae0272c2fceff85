#!/usr/bin/env bash
# Builds SeaweedFS's weed, the S3-compatible object store the cluster
# tests and `make cluster-demo` start, from the Go module proxy (`go
# install` refuses the module for its replace directives, so it is built
# inside its own directory), into /usr/local/lib/runtools/weed. It takes
# about 14 minutes on two cores and is kept: the version file names the
# module version, and a matching build is not built again.
set -euo pipefail
WEED_VERSION="v0.0.0-20261109003541-7506e5f91cd6"
DIR=/usr/local/lib/runtools
export PATH="/usr/local/go/bin:$PATH"
if [ "$(cat "$DIR/weed.version" 2>/dev/null)" = "$WEED_VERSION" ] && [ -x "$DIR/weed" ]; then
	exit 0
fi
printf '\033[1m==> %s\033[0m\n' "building SeaweedFS $WEED_VERSION, the S3 server of the cluster tests (about 14 minutes, once)" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
moddir=$(cd "$tmp" && go mod download -json "github.com/seaweedfs/seaweedfs@$WEED_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$moddir" ] || { echo "could not download github.com/seaweedfs/seaweedfs@$WEED_VERSION from the Go module proxy" >&2; exit 1; }
(cd "$moddir" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags "-s -w" -o "$tmp/weed" ./weed)
mkdir -p "$DIR"
install -m 0755 "$tmp/weed" "$DIR/weed.new"
mv "$DIR/weed.new" "$DIR/weed"
echo "$WEED_VERSION" > "$DIR/weed.version"
