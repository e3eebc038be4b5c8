#!/bin/sh
# Init container of the knit DaemonSet: installs the self-contained `knit`
# CNI plugin (dist/cni-plugin/knit: one executable compiled by Bun from the
# plugin's TypeScript; no Node.js needed on the host) into the host's CNI bin dir.
# Copy to a temporary name, then rename: a runtime exec'ing knit at this
# moment sees the old binary or the new one, never half a file.
# The conflist is not installed here: knitd writes it once it is ready.
set -eu
dir=${CNI_BIN_DIR:-/host/opt/cni/bin}
src=/opt/knit/dist/cni-plugin/knit
mkdir -p "$dir"
cp "$src" "$dir/.knit.tmp"
chmod 0755 "$dir/.knit.tmp"
mv -f "$dir/.knit.tmp" "$dir/knit"
echo "install-cni: installed $dir/knit ($(wc -c < "$dir/knit") bytes)"
