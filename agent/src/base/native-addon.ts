/**
 * knit's native addons (agent/native, built by `npm run build:native`):
 * knit_netns (namespaces, socket options, netlink socket tuning, durable
 * file replacement) and knit_nft (libnftables). One home for where they are
 * and how a load failure reads, whichever module needs them.
 */
import * as path from 'node:path';

export type NativeAddonName = 'knit_netns' | 'knit_nft';

/** dist/agent/src/base/native-addon.js → <repo>/agent/native/build/Release/<name>.node */
export function nativeAddonPath(name: NativeAddonName): string {
  return path.resolve(__dirname, '../../../../agent/native/build/Release', `${name}.node`);
}

/** require() an addon; the error names its path and how to build it. */
export function loadNativeAddon<T>(name: NativeAddonName): T {
  const file = nativeAddonPath(name);
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(file) as T;
  } catch (cause) {
    throw new Error(`native addon ${name} not loadable from ${file}; build it with \`npm run build:native\``, { cause });
  }
}
