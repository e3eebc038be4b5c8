#!/usr/bin/env bash
# knit's local-cluster demo, the one command for a fresh Debian machine as
# root: installs what is missing (scripts/install-deps.sh), builds when the
# sources are newer than the last build, then brings up etcd + N knitd nodes
# + M containers per node in network namespaces and shows that every
# container reaches every other.
#
#   sudo bash demo/run.sh [--backend vxlan|host-gw|ipip] [--nodes N] [--containers M] [--dual-stack | --ipv6-only] [--keep]
#   sudo bash demo/run.sh --down      # remove a cluster left running by --keep
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "demo: the demo needs root (network namespaces, netlink, nftables); run: sudo bash demo/run.sh $*" >&2
  exit 1
fi

# Options first: with a build at hand its own parser answers a usage error
# (exit 2) or --help at once, before any install or build.
if [ -f dist/demo/src/main.js ]; then
  KNIT_DEMO_PARSE_ONLY=1 node dist/demo/src/main.js "$@" || exit $?
  case " $* " in *" -h "*|*" --help "*) exec node dist/demo/src/main.js "$@" ;; esac
fi

# Build only when something the build reads is newer than the last build
# (dist/.demo-build-stamp, written after a successful install-deps.sh).
stamp=dist/.demo-build-stamp
stale() {
  [ -f "$stamp" ] && [ -f dist/demo/src/main.js ] && [ -f agent/native/build/Release/knit_netns.node ] || return 0
  [ -n "$(find agent cni-plugin cni-wire demo proto scripts package.json package-lock.json tsconfig.json \
          -newer "$stamp" -type f -not -path '*/build/*' -print -quit 2>/dev/null)" ]
}
case " $* " in
  *" --down "*) [ -f dist/demo/src/main.js ] || bash scripts/install-deps.sh ;;
  *)
    if stale; then
      echo "==> installing what is missing and building (scripts/install-deps.sh: native addon, proto, TypeScript; ~10-20 s)"
      start=$SECONDS
      bash scripts/install-deps.sh
      touch "$stamp"
      echo "==> built in $((SECONDS - start)) s"
    else
      echo "==> build is up to date (nothing newer than $stamp)"
    fi ;;
esac
exec node dist/demo/src/main.js "$@"
