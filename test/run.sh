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

# Debian packages: binaries the lab and the tests use, and the reference CNI
# plugins the benchmarks and chaining tests compare against.
need=()
command -v ip >/dev/null        || need+=(iproute2)
command -v ping >/dev/null      || need+=(iputils-ping)
command -v nft >/dev/null       || need+=(nftables)
command -v etcd >/dev/null      || need+=(etcd-server)
command -v etcdctl >/dev/null   || need+=(etcd-client)
command -v bird >/dev/null      || need+=(bird2)
command -v iperf3 >/dev/null    || need+=(iperf3)
command -v conntrack >/dev/null || need+=(conntrack)
command -v openssl >/dev/null   || need+=(openssl)
[ -x /usr/lib/cni/bridge ]      || need+=(containernetworking-plugins)
command -v g++ >/dev/null       || need+=(g++ make python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "test/run.sh: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian packages start no services here (no systemd); make sure a stray
# system etcd or bird cannot be mistaken for the lab's own.

# npm packages, exactly as locked.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# Build native addons against the local Node headers (offline).
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
npm run --silent build
if [ $# -eq 0 ]; then
  set -- 'dist/test/unit/**/*.test.js' 'dist/test/integration/**/*.test.js' 'dist/test/e2e/**/*.test.js'
fi
exec npx mocha "$@"
