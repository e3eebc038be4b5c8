/**
 * Helper process of the cluster benchmarks: writes lease keys into the lab's
 * etcd on request. It runs inside the lab's underlay namespace (the only
 * place the lab's etcd is reachable from), started by `EtcdWriter` in
 * cluster-common.ts; the bench process itself stays in the root namespace.
 *
 *   node dist/test/bench/cluster-etcd-writer.js http://192.168.77.1:2379 [WATCH_PREFIX]
 *
 * Protocol, one JSON object per line:
 *   stdin  {"id":1,"puts":[{"key":"/knit/v1/subnets/…","value":"…"}],"deletes":["…"]}
 *   stdout {"id":1,"t0":<ms>,"t1":<ms>}  or  {"id":1,"error":"…"}
 * With WATCH_PREFIX, a second client (its own connection, as a knitd has)
 * watches that prefix and reports every event as it is delivered:
 *   stdout {"watch":{"key":"…","type":"put"|"delete","t":<ms>}}
 * which is etcd's own floor for convergence: put sent → watch event delivered.
 * All puts and deletes of one request go in one etcd transaction. t0/t1 are
 * read from the monotonic clock (process.hrtime, CLOCK_MONOTONIC), which every
 * process of the machine shares whatever its namespace, so the bench compares
 * them with its own clock: t0 just before the request leaves, t1 when etcd
 * has acknowledged the commit.
 */
import { createInterface } from 'node:readline';
import { Etcd3 } from 'etcd3';

/** One request line. */
export interface WriterRequest {
  id: number;
  puts?: Array<{ key: string; value: string }>;
  deletes?: string[];
}

/** One answer line. */
export interface WriterReply {
  id: number;
  t0?: number;
  t1?: number;
  error?: string;
}

/** One watch line: the etcd floor probe. */
export interface WatchReport {
  watch: { key: string; type: 'put' | 'delete'; t: number };
}

/** Monotonic milliseconds (CLOCK_MONOTONIC: the same clock in every process of the machine). */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

async function main(): Promise<void> {
  const endpoint = process.argv[2];
  if (!endpoint) throw new Error('usage: cluster-etcd-writer <etcd client URL>');
  const client = new Etcd3({ hosts: [endpoint] });
  // Warm the connection so the first timed request does not pay for the handshake.
  await client.get('/knit-bench-warmup').string();
  const watchPrefix = process.argv[3];
  let probe: Etcd3 | undefined;
  if (watchPrefix) {
    probe = new Etcd3({ hosts: [endpoint] });
    const watcher = await probe.watch().prefix(watchPrefix).create();
    const report = (type: 'put' | 'delete') => (kv: { key: Buffer }): void => {
      const line: WatchReport = { watch: { key: kv.key.toString(), type, t: monoMs() } };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    };
    watcher.on('put', report('put'));
    watcher.on('delete', report('delete'));
  }
  process.stdout.write('{"ready":true}\n');
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    const req = JSON.parse(line) as WriterRequest;
    const reply: WriterReply = { id: req.id };
    try {
      const ops = [
        ...(req.puts ?? []).map((p) => client.put(p.key).value(p.value)),
        ...(req.deletes ?? []).map((k) => client.delete().key(k)),
      ];
      reply.t0 = monoMs();
      await client.if('/knit-bench-never', 'Create', '==', 0).then(...ops).commit();
      reply.t1 = monoMs();
    } catch (err) {
      reply.error = err instanceof Error ? err.message : String(err);
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
  client.close();
  probe?.close();
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`cluster-etcd-writer: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
