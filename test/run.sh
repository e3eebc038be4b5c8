#!/usr/bin/env bash
# The one command that runs knit's whole test suite on a fresh Debian machine
# as root. It installs what is missing (Debian and npm packages), builds the
# native addon and the TypeScript, then runs mocha. Extra arguments go to mocha
# (e.g. `bash test/run.sh dist/test/unit/**/*.test.js`); without arguments it
# runs everything, then the CNI suites a second time against the compiled
# plugin artifact.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "test/run.sh: the lab needs root (network namespaces, netlink, nftables); run it as root" >&2
  exit 1
fi

# Debian and npm packages, native addon, TypeScript (shared with demo/run.sh).
bash scripts/install-deps.sh
# Layering rules of docs/architecture.md (.dependency-cruiser.js): a
# violation fails the run with the rule's name and what it allows.
npm run --silent lint
if [ $# -gt 0 ]; then
  exec npx mocha "$@"
fi
# One mocha run per tier, each with its own config: unit tests (pure, no
# root, no lab) without the lab's root hooks and with a short timeout; the
# lab tiers with the root hooks that sweep and clean up. Every tier runs even
# when an earlier one failed, so one run reports every failure.
status=0
npx mocha --config test/unit/mocharc.json || status=1
npx mocha --config test/integration/mocharc.json || status=1
npx mocha --config test/e2e/mocharc.json || status=1
# The CNI suites once more, against the artifact deploy/ installs (the
# Bun-compiled dist/cni-plugin/knit, built by install-deps.sh) instead of the
# checkout's script: both builds of the plugin must behave the same. Runs even
# when the first pass failed, so one run reports both; either failing fails.
echo "test/run.sh: the CNI suites again, against the plugin artifact dist/cni-plugin/knit"
# (.mocharc.json gives them the lab's root hooks, as in the integration tier.)
KNIT_TEST_PLUGIN=dist/cni-plugin/knit npx mocha \
  dist/test/integration/cni-roundtrip.test.js dist/test/integration/cni-chaining.test.js \
  dist/test/integration/cni-bad-input.test.js dist/test/integration/cni-concurrency.test.js \
  dist/test/integration/cni-gc.test.js || status=1
exit "$status"
