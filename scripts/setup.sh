#!/usr/bin/env bash
# Installs what runtools needs on a Debian 12 host, idempotently: Debian
# packages (through the host's own apt sources), the pinned static runsc
# build with runtools' patches (gVisor through the Go module proxy
# configured for `go`), and the runtools binary itself. Safe to run again;
# it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNSC_VERSION="v0.0.0-20260701204157-69c2d17aea96"   # see DESIGN: newer pseudo-versions are not served
RUNSC_DIR=/usr/local/lib/runtools
# e2fsprogs (mkfs.ext4) makes durable disks and volumes; podman is for
# the benchmark; openssh-client, chromium, nodejs and postgresql for the
# tests (ssh/scp/sftp, the browser tests with
# Playwright, the TypeScript SDK's build and tests, and the store's tests
# on PostgreSQL, which start their own throwaway server); the python3-*
# ones for the Python SDK's build and tests (sdk/python: no Python package
# index is reached).
PACKAGES=(mmdebstrap e2fsprogs nftables iproute2 ca-certificates patch podman openssh-client chromium nodejs postgresql
	python3-httpx python3-hatchling python3-pytest python3-mypy python3-venv python3-pip python3-build python3-yaml)
export PATH="/usr/local/go/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	echo "setup needs root (apt, network namespaces, gVisor): run it with sudo" >&2
	exit 1
fi
command -v go >/dev/null || { echo "Go is missing: install Go 1.26 into /usr/local/go" >&2; exit 1; }

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
		apt-get update >/dev/null
		apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
	}
fi

# runsc is built from the pinned gVisor module with runtools' patches in
# scripts/runsc/ applied (each says what it does and why); the version file
# names the module version and the patches' checksum, so a changed patch
# builds runsc again.
RUNSC_BUILD="$RUNSC_VERSION+$(cat scripts/runsc/*.patch | sha256sum | cut -c1-12)"
if [ "$(cat "$RUNSC_DIR/runsc.version" 2>/dev/null)" != "$RUNSC_BUILD" ] || [ ! -x "$RUNSC_DIR/runsc" ]; then
	say "building runsc $RUNSC_BUILD (static, with runtools' patches; a minute or two)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	moddir=$(cd "$tmp" && go mod download -json "gvisor.dev/gvisor@$RUNSC_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$moddir" ] || { echo "could not download gvisor.dev/gvisor@$RUNSC_VERSION from the Go module proxy" >&2; exit 1; }
	cp -r "$moddir" "$tmp/src" && chmod -R u+w "$tmp/src"
	for p in scripts/runsc/*.patch; do
		patch -s -p1 -d "$tmp/src" <"$p" || { echo "patch $p does not apply to gVisor $RUNSC_VERSION" >&2; exit 1; }
	done
	(cd "$tmp/src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -o "$tmp/runsc" ./runsc)
	mkdir -p "$RUNSC_DIR"
	install -m 0755 "$tmp/runsc" "$RUNSC_DIR/runsc.new"
	mv "$RUNSC_DIR/runsc.new" "$RUNSC_DIR/runsc"
	echo "$RUNSC_BUILD" > "$RUNSC_DIR/runsc.version"
fi

# SeaweedFS, the S3-compatible server the cluster tests and `make
# cluster-demo` start: built once from the Go module proxy (long: see the
# script).
scripts/weed.sh

command -v npm >/dev/null || {
	say "installing npm"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm >/dev/null
}
if ! cmp -s e2e/package-lock.json e2e/node_modules/.installed-lock.json 2>/dev/null; then
	say "installing the browser tests' packages (npm ci in e2e/)"
	(cd e2e && npm ci --no-audit --no-fund >/dev/null && cp package-lock.json node_modules/.installed-lock.json)
fi
if ! cmp -s sdk/typescript/package-lock.json sdk/typescript/node_modules/.installed-lock.json 2>/dev/null; then
	say "installing the TypeScript SDK's build and test packages (npm ci in sdk/typescript/)"
	(cd sdk/typescript && npm ci --no-audit --no-fund >/dev/null && cp package-lock.json node_modules/.installed-lock.json)
fi
if ! cmp -s integration/mcpclient/package-lock.json integration/mcpclient/node_modules/.installed-lock.json 2>/dev/null; then
	say "installing the MCP client of the MCP tests (npm ci in integration/mcpclient/)"
	(cd integration/mcpclient && npm ci --no-audit --no-fund >/dev/null && cp package-lock.json node_modules/.installed-lock.json)
fi

say "building runtools"
mkdir -p bin
CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/runtools ./cmd/runtools
install -m 0755 bin/runtools /usr/local/bin/runtools.new && mv /usr/local/bin/runtools.new /usr/local/bin/runtools
