/**
 * Reading and seeding the network config at `<prefix>/network`. Seeding is
 * create-if-absent: knitd may seed from a file at start-up, and several nodes
 * may race to do so; the first write wins and everybody then uses what etcd
 * holds, so the cluster never runs with two configs.
 */
import type { Etcd3 } from 'etcd3';
import { ConflictError, wrapEtcdError } from './errors';
import { formatNetworkConfig, parseNetworkConfigText, type NetworkConfig } from './network-config';

/** The key of the network config under a prefix ("/knit/v1" → "/knit/v1/network"). */
export function networkKey(prefix = '/knit/v1'): string {
  return `${prefix.replace(/\/+$/, '')}/network`;
}

const CALL_TIMEOUT_MS = 5000;

function callOpts(): { deadline: Date } {
  return { deadline: new Date(Date.now() + CALL_TIMEOUT_MS) };
}

/**
 * Reads and validates the stored config. Returns undefined when absent;
 * throws NetworkConfigError when it does not validate, EtcdUnavailableError
 * when etcd cannot be reached.
 */
export async function readNetworkConfig(client: Etcd3, prefix = '/knit/v1'): Promise<NetworkConfig | undefined> {
  const key = networkKey(prefix);
  let text: string | undefined;
  try {
    const res = await client.kv.range({ key: Buffer.from(key) }, callOpts());
    text = res.kvs[0]?.value.toString('utf8');
  } catch (err) {
    throw wrapEtcdError(`read network config ${key}`, err);
  }
  return text === undefined ? undefined : parseNetworkConfigText(text);
}

/**
 * Writes `config` only if no config exists. Returns the config etcd holds
 * afterwards and whether we wrote it. A stored config that differs from ours
 * is not an error (the operator's `knitctl network init` wins over a seed file);
 * a stored one that does not validate is (NetworkConfigError).
 */
export async function seedNetworkConfig(
  client: Etcd3,
  config: NetworkConfig,
  prefix = '/knit/v1',
): Promise<{ created: boolean; config: NetworkConfig }> {
  const key = Buffer.from(networkKey(prefix));
  let res;
  try {
    res = await client.kv.txn(
      {
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key, value: Buffer.from(formatNetworkConfig(config)) } }],
        failure: [{ request_range: { key } }],
      },
      callOpts(),
    );
  } catch (err) {
    throw wrapEtcdError(`seed network config ${key.toString()}`, err);
  }
  if (res.succeeded) return { created: true, config };
  const stored = res.responses[0]?.response_range?.kvs?.[0]?.value.toString('utf8');
  if (stored === undefined) throw new ConflictError(`seed network config ${key.toString()}: key vanished during the write; retry`);
  return { created: false, config: parseNetworkConfigText(stored) };
}

/** A running watch of the network config key. */
export interface NetworkConfigWatch {
  close(): Promise<void>;
}

/**
 * Watches `<prefix>/network` while knitd runs. `onValue` gets the stored text
 * (undefined when the key is gone) after every put or delete, and once
 * after every (re)connect of the watch stream, from a fresh read, so a
 * change made while the stream was down is not missed. `onError` hears
 * stream and read failures (the watch reconnects by itself).
 */
export async function watchNetworkConfig(
  client: Etcd3,
  prefix: string,
  onValue: (text: string | undefined) => void,
  onError: (err: Error) => void,
): Promise<NetworkConfigWatch> {
  const key = networkKey(prefix);
  const reread = async (): Promise<void> => {
    try {
      const res = await client.kv.range({ key: Buffer.from(key) }, callOpts());
      onValue(res.kvs[0]?.value.toString('utf8'));
    } catch (err) {
      onError(wrapEtcdError(`read network config ${key}`, err));
    }
  };
  let watcher;
  try {
    watcher = await client.watch().key(key).create();
  } catch (err) {
    throw wrapEtcdError(`watch network config ${key}`, err);
  }
  watcher.on('put', (kv) => onValue(kv.value.toString('utf8')));
  watcher.on('delete', () => onValue(undefined));
  watcher.on('connected', () => void reread());
  watcher.on('error', (err) => onError(err));
  await reread();
  // Cancelling waits for etcd's answer (or a reconnect): bounded, so a shutdown never hangs on it.
  return {
    close: async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        watcher.cancel().catch(() => undefined),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, CLOSE_TIMEOUT_MS); }),
      ]);
      clearTimeout(timer);
    },
  };
}

/** How long closing the network config watch may wait for etcd. */
const CLOSE_TIMEOUT_MS = 2000;
