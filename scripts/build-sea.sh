#!/usr/bin/env bash
# Builds the self-contained `knit` CNI plugin: a Node.js single executable
# application (SEA) made of this machine's `node` binary with the single-file
# plugin bundle injected, so it runs on a host without Node.js installed.
#
#   npm run build:sea          → dist/cni-plugin/knit-sea
#   bash scripts/build-sea.sh [OUT]
#
# Steps (Node's documented SEA recipe): bundle → `node --experimental-sea-config`
# makes the preparation blob (with V8 code cache, so start-up skips compiling)
# → copy `node`, strip its debug symbols (99 MB → 86 MB) → `postject` injects
# the blob and flips the SEA fuse. The result depends only on glibc and
# libstdc++ (like `node` itself), not on Node.js or any file of knit.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist/cni-plugin/knit-sea}
bundle=dist/cni-plugin/knit
[ -f dist/cni-plugin/src/bundle.js ] || { echo "build-sea: compile first (npm run build:ts)" >&2; exit 1; }
npm run --silent build:plugin >/dev/null

node_bin=$(command -v node)
if [ "$(node -p 'process.config.variables.single_executable_application')" != true ]; then
  echo "build-sea: $node_bin was built without single executable application support" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$bundle" "$work/main.js"
cat > "$work/sea-config.json" <<JSON
{ "main": "$work/main.js", "output": "$work/sea-prep.blob", "disableExperimentalSEAWarning": true, "useCodeCache": true }
JSON
node --experimental-sea-config "$work/sea-config.json" >/dev/null
cp "$node_bin" "$work/knit-sea"
chmod u+w "$work/knit-sea"
if command -v strip >/dev/null; then strip "$work/knit-sea"; fi
# postject warns about ELF note sections it does not know; they are harmless.
npx --no-install postject "$work/knit-sea" NODE_SEA_BLOB "$work/sea-prep.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null 2>&1 \
  || { echo "build-sea: postject failed" >&2; exit 1; }
# Smoke test before publishing: VERSION must answer without Node on PATH.
if ! printf '' | env -i CNI_COMMAND=VERSION "$work/knit-sea" | grep -q '"supportedVersions"'; then
  echo "build-sea: the built binary does not answer CNI VERSION" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
mv "$work/knit-sea" "$out.tmp" && mv "$out.tmp" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
