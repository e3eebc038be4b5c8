/**
 * The server half of test/bench/api-latency.ts, run as its own process (as
 * knitd would be) so its CPU and memory are measured alone. Controlled over
 * the fork IPC channel:
 *   → {cmd:'usage'}                 ← {usage:{cpuMs, rssMb, heapMb}}
 *   → {cmd:'emit', rate, seconds}   ← {emitted:n} when done (events carry their send time)
 *   → {cmd:'snapshot', on}           ← {snapshot:on} (ListEndpoints from the encoded snapshot, or rebuilt per call)
 *   → {cmd:'stop'}
 */
import { ApiServer } from '../../agent/src/api';
import { silentLogger } from '../../agent/src/log/logger';
import { FakeSource } from '../support/api-fake-source';

interface Cmd {
  cmd: 'usage' | 'emit' | 'stop' | 'snapshot';
  on?: boolean;
  rate?: number;
  seconds?: number;
}

async function main(): Promise<void> {
  const socketPath = process.argv[2];
  const source = new FakeSource();
  // A node with 100 endpoints: a realistic ListEndpoints / snapshot size.
  source.endpoints = Array.from({ length: 100 }, (_, i) => ({ ...source.endpoints[0], containerId: `bench${i}`, address: `10.244.1.${i + 2}/24` }));
  // knitd's source has an endpoint-set version (the endpoint store's): ListEndpoints is served from a snapshot.
  // {cmd:'snapshot', on:false} measures the per-call rebuild it replaced, side by side in the same run.
  source.epVersion = 1;
  const server = new ApiServer({ source, logger: silentLogger(), socketPath, watchQueueLimit: 4096 });
  await server.start();
  const send = (m: unknown): void => void process.send?.(m);
  process.on('message', (m: Cmd | null) => {
    if (m === null) return;
    if (m.cmd === 'usage') {
      const u = process.cpuUsage();
      const mem = process.memoryUsage();
      send({ usage: { cpuMs: (u.user + u.system) / 1000, rssMb: mem.rss / 2 ** 20, heapMb: mem.heapUsed / 2 ** 20 }, watchers: server.watchers });
    } else if (m.cmd === 'emit') {
      const total = Math.round((m.rate ?? 100) * (m.seconds ?? 10));
      const interval = 1000 / (m.rate ?? 100);
      const t0 = performance.now();
      let n = 0;
      const tick = (): void => {
        // Catch up to the schedule (timers are coarse), then sleep.
        while (n < total && performance.now() - t0 >= n * interval) {
          const sent = performance.timeOrigin + performance.now();
          source.emit({ kind: 'endpoint', change: 'added', endpoint: { ...source.endpoints[0], containerId: `ev${n}`, netns: String(sent) } });
          n += 1;
        }
        if (n < total) setTimeout(tick, Math.max(0, t0 + n * interval - performance.now()));
        else send({ emitted: n });
      };
      tick();
    } else if (m.cmd === 'snapshot') {
      source.epVersion = m.on === false ? undefined : 1;
      send({ snapshot: m.on !== false });
    } else if (m.cmd === 'stop') {
      void server.close().then(() => process.exit(0));
    }
  });
  send({ ready: true });
}

void main();
