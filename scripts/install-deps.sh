#!/usr/bin/env bash
# Installs and builds everything knit's test suite and demo need on a fresh
# Debian machine, as root: the Debian packages (only those missing), the npm
# packages exactly as locked, the native addon and the TypeScript.
# Used by test/run.sh and demo/run.sh; safe to run again (it only does what
# is missing, then an incremental build).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "scripts/install-deps.sh: installing packages needs root; run it as root" >&2
  exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "scripts/install-deps.sh: knit needs Node.js >= 20 and npm; install them first (Debian 12's nodejs is 18: use NodeSource or the official tarball)" >&2
  exit 1
fi

# Debian packages: binaries the lab, the demo and the tests use, and the
# reference CNI plugins the benchmarks and chaining tests compare against.
need=()
command -v ip >/dev/null        || need+=(iproute2)
command -v ping >/dev/null      || need+=(iputils-ping)
command -v nft >/dev/null       || need+=(nftables)
command -v iptables-nft >/dev/null || need+=(iptables)  # Docker-style FORWARD DROP tests (forward-policy)
command -v etcd >/dev/null      || need+=(etcd-server)
command -v etcdctl >/dev/null   || need+=(etcd-client)
command -v bird >/dev/null      || need+=(bird2)
command -v iperf3 >/dev/null    || need+=(iperf3)
command -v sockperf >/dev/null  || need+=(sockperf)
command -v conntrack >/dev/null || need+=(conntrack)
[ -x /usr/bin/time ]            || need+=(time)
command -v openssl >/dev/null   || need+=(openssl)
[ -x /usr/lib/cni/bridge ]      || need+=(containernetworking-plugins)
command -v g++ >/dev/null       || need+=(g++ make python3)
# The Docker (CNM) driver e2e: Debian's dockerd 20.10 (its client is
# /usr/bin/docker) and a static busybox to import as the test image.
[ -x /usr/sbin/dockerd ]        || need+=(docker.io)
[ -e /usr/share/doc/busybox-static ] || need+=(busybox-static)
command -v zsh >/dev/null       || need+=(zsh)  # the knitctl completion test runs the zsh script in zsh
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian packages start no services here (no systemd); the lab and the
# demo run their own etcd inside their own namespaces.

# npm packages, exactly as locked (Bun, which compiles the plugin artifact,
# is one of them: its postinstall script puts its binary in place).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# Build native addons against the local Node headers (offline).
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
# Quiet unless it fails: then the whole build output is shown.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! npm run --silent build >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-deps: the build failed (output above)" >&2
  exit 1
fi
# The CNI plugin artifact deploy/ installs (dist/cni-plugin/knit); the CNI
# suites run against it too (test/run.sh).
if ! npm run --silent build:plugin >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-deps: building the plugin artifact failed (output above)" >&2
  exit 1
fi
