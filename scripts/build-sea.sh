#!/usr/bin/env bash
# Builds the plugin as a Node.js single executable application (SEA): this
# machine's `node` binary with the single-file plugin bundle injected, so it
# runs on a host without Node.js. NOT the artifact deploy/ installs (that is
# the Bun-compiled dist/cni-plugin/knit, scripts/build-plugin.sh, which starts
# several times faster); kept as a candidate of the artifact benchmark
# (test/bench/cni-plugin-artifacts.ts) and as a fallback for a host whose CPU
# Bun's build does not support.
#
#   npm run build:sea                          → dist/cni-plugin/knit-sea
#   bash scripts/build-sea.sh [--snapshot] [--empty] [OUT]
#
# Default: the SEA runs the bundle with a V8 code cache (start-up skips
# compiling it). --snapshot: the bundle is loaded at build time into a V8
# startup snapshot (`useSnapshot`), start-up deserializes it and runs main().
# --empty: an empty program instead of the plugin (the SEA's floor).
# Steps (Node's documented SEA recipe): bundle → `node --experimental-sea-config`
# makes the preparation blob → copy `node`, strip its debug symbols (99 MB →
# 86 MB) → `postject` injects the blob and flips the SEA fuse. The result
# depends only on glibc and libstdc++ (like `node` itself).
set -euo pipefail
cd "$(dirname "$0")/.."

snapshot=false
empty=false
while [ $# -gt 0 ]; do
  case $1 in
    --snapshot) snapshot=true; shift ;;
    --empty) empty=true; shift ;;
    *) break ;;
  esac
done
out=${1:-dist/cni-plugin/knit-sea}
[ -f dist/cni-plugin/src/bundle.js ] || { echo "build-sea: compile first (npm run build:ts)" >&2; exit 1; }

node_bin=$(command -v node)
if [ "$(node -p 'process.config.variables.single_executable_application')" != true ]; then
  echo "build-sea: $node_bin was built without single executable application support" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if $empty; then
  if $snapshot; then
    echo "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => undefined);" > "$work/main.js"
  else
    echo '' > "$work/main.js"
  fi
elif $snapshot; then
  node dist/cni-plugin/src/bundle.js --snapshot "$work/main.js" >/dev/null
else
  node dist/cni-plugin/src/bundle.js "$work/main.js" >/dev/null
fi
if $snapshot; then cache='"useSnapshot": true'; else cache='"useCodeCache": true'; fi
cat > "$work/sea-config.json" <<JSON
{ "main": "$work/main.js", "output": "$work/sea-prep.blob", "disableExperimentalSEAWarning": true, $cache }
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
if ! $empty && ! printf '' | env -i CNI_COMMAND=VERSION "$work/knit-sea" | grep -q '"supportedVersions"'; then
  echo "build-sea: the built binary does not answer CNI VERSION" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
mv "$work/knit-sea" "$out.tmp" && mv "$out.tmp" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
