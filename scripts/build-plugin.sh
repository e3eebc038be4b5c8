#!/usr/bin/env bash
# Builds the `knit` CNI plugin artifact that deploy/ installs into a CNI bin
# dir: the plugin's TypeScript (cni-plugin/src, entry cli.ts) compiled by Bun
# into one self-contained executable (`bun build --compile --bytecode
# --minify`). It starts in a few milliseconds (no Node.js start-up; the
# bytecode spares parsing) and needs only glibc: no Node.js, no knit checkout
# on the host. Bun comes from the npm registry (devDependency `bun`), so
# `npm ci` is the only download. Why Bun and not a Node.js SEA: see
# docs/benchmarks.md ("Plugin artifact").
#
#   npm run build:plugin              → dist/cni-plugin/knit
#   bash scripts/build-plugin.sh [OUT]
#
# Reproducible: the same sources and Bun version give the same bytes in any
# checkout directory (Bun embeds the output's base name, so the build always
# writes a file named `knit` and renames it into place).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist/cni-plugin/knit}
bun=node_modules/bun/bin/bun.exe
if ! "$bun" --version >/dev/null 2>&1; then
  echo "build-plugin: $bun does not run; install the npm packages with scripts enabled (npm ci)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Nothing is read at run time: a compiled Bun program would otherwise load
# `.env` and `bunfig.toml` from its working directory (the runtime's), which
# would let a file there set CNI_* variables for the plugin.
"$bun" build --compile --bytecode --minify --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  cni-plugin/src/cli.ts --outfile "$work/knit" >"$work/log" 2>&1 \
  || { cat "$work/log" >&2; echo "build-plugin: bun build failed" >&2; exit 1; }
# Smoke test before publishing: VERSION must answer with an empty environment.
if ! printf '{"cniVersion":"1.1.0"}' | env -i CNI_COMMAND=VERSION "$work/knit" | grep -q '"supportedVersions"'; then
  echo "build-plugin: the built binary does not answer CNI VERSION" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
chmod 0755 "$work/knit"
mv "$work/knit" "$out.tmp" && mv "$out.tmp" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes, $("$bun" --version | sed 's/^/bun /'))"
