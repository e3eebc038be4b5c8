#!/usr/bin/env bash
# The one command that runs knit's whole test suite on a fresh Debian machine
# as root. It installs what is missing (Debian and npm packages), builds the
# native addon and the TypeScript, then runs mocha. Extra arguments go to mocha
# (e.g. `bash test/run.sh dist/test/unit/**/*.test.js`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "test/run.sh: the lab needs root (network namespaces, netlink, nftables); run it as root" >&2
  exit 1
fi

# Debian and npm packages, native addon, TypeScript (shared with demo/run.sh).
bash scripts/install-deps.sh
if [ $# -eq 0 ]; then
  set -- 'dist/test/unit/**/*.test.js' 'dist/test/integration/**/*.test.js' 'dist/test/e2e/**/*.test.js'
fi
exec npx mocha "$@"
