#!/usr/bin/env bash
# knit's local-cluster demo, the one command for a fresh Debian machine as
# root: installs what is missing (scripts/install-deps.sh), builds, then
# brings up etcd + N knitd nodes + M containers per node in network
# namespaces and shows that every container reaches every other.
#
#   sudo bash demo/run.sh [--backend vxlan|host-gw|ipip] [--nodes N] [--containers M] [--keep]
#   sudo bash demo/run.sh --down      # remove a cluster left running by --keep
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "demo: the demo needs root (network namespaces, netlink, nftables); run: sudo bash demo/run.sh $*" >&2
  exit 1
fi
case " $* " in
  *" --down "*|*" -h "*|*" --help "*)
    # Removing a cluster or showing help needs no install; build only if never built.
    [ -f dist/demo/src/main.js ] || bash scripts/install-deps.sh ;;
  *)
    echo "==> installing and building what is missing (scripts/install-deps.sh)"
    bash scripts/install-deps.sh ;;
esac
exec node dist/demo/src/main.js "$@"
