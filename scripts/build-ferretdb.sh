#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (Apache-2.0) from the Go module proxy into .tools/ferretdb/bin.
# Why not `go install …@v1.24.2`: the module zip lacks build/version/version.txt, and a binary
# whose main module is FerretDB panics at init without it (FerretDB issue #2982). So we copy the
# module source, write version.txt in, and build the unchanged CLI from that copy.
set -euo pipefail
VERSION=v1.24.2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${FERRETDB_TOOLS_DIR:-$ROOT/.tools/ferretdb}"
BIN="$TOOLS/bin/ferretdb"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "ferretdb $VERSION already built at $BIN" >&2
  exit 0
fi
command -v go >/dev/null || { echo "go is not installed: install Go >= 1.24, or set MONGODB_URI" >&2; exit 3; }

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
echo "ferretdb: downloading module $VERSION from the Go module proxy…" >&2
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
( cd "$WORK" && go mod init ferretdb-build >/dev/null 2>&1 && go mod download -json "github.com/FerretDB/FerretDB@$VERSION" > dl.json )
SRC="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).Dir)' "$WORK/dl.json")"
cp -r "$SRC" "$WORK/src"
chmod -R u+w "$WORK/src"
echo "$VERSION" > "$WORK/src/build/version/version.txt"
echo "ferretdb: compiling (a cold build takes a few minutes on 2 cores)…" >&2
mkdir -p "$TOOLS/bin"
( cd "$WORK/src" && go build -buildvcs=false -trimpath -o "$BIN.tmp" ./cmd/ferretdb )
mv "$BIN.tmp" "$BIN"
"$BIN" --version >&2
echo "ferretdb: built $BIN" >&2
