/**
 * The Reconciler's onRun hook (knitd's reconcile metrics): one report per
 * run, 'ok' with the run's numbers or 'error' when setup fails, and a hook
 * that throws changes nothing for the reconciler.
 */
import { expect } from 'chai';
import { Reconciler, type DataplaneSource, type DesiredDataplane, type ReconcileRunReport, type SetupResult } from '../../agent/src/dataplane/reconcile';
import { realClock } from '../../agent/src/base';
import { silentLogger } from '../../agent/src/log/logger';
import type { Lease } from '../../agent/src/store/lease-codec';
import { FakeNetlink } from './reconcile-fake-netlink';

const DEV = 7;

class OneRouteBackend implements DataplaneSource {
  failSetup = false;
  async setup(): Promise<SetupResult> {
    if (this.failSetup) throw new Error('no device');
    return { leaseData: {}, mtu: 1450, writes: 0 };
  }
  desired(peers: readonly Lease[]): DesiredDataplane {
    return {
      refused: [],
      peers: peers.map((l) => ({
        subnet: l.subnet, nodeName: l.nodeName, publicIp: l.publicIp, mode: 'vxlan' as const, fdb: [], neighbours: [], nexthops: [],
        routes: [{ dst: l.subnet, gateway: l.subnet.replace('/24', ''), index: DEV, onlink: true, protocol: 89 }],
      })),
    };
  }
  ownedDevices(): number[] {
    return [DEV];
  }
}

const lease: Lease = { subnet: '10.244.2.0/24', nodeName: 'n2', publicIp: '192.168.77.12', backend: { type: 'vxlan', data: {} }, renewedAt: '2026-01-01T00:00:00Z' };

describe('reconcile: Reconciler onRun hook', () => {
  const cases: Array<{ name: string; failSetup: boolean; throwInHook: boolean; want: Pick<ReconcileRunReport, 'result'> & { writes?: number } }> = [
    { name: 'a good run is reported ok with its numbers', failSetup: false, throwInHook: false, want: { result: 'ok', writes: 1 } },
    { name: 'a failed setup is reported as an error run', failSetup: true, throwInHook: false, want: { result: 'error' } },
    { name: 'a hook that throws does not fail the run', failSetup: false, throwInHook: true, want: { result: 'ok', writes: 1 } },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const be = new OneRouteBackend();
      be.failSetup = tc.failSetup;
      const reports: ReconcileRunReport[] = [];
      let t = 0;
      const rec = new Reconciler({
        nl: new FakeNetlink().asHandle(), logger: silentLogger(), backend: be, resyncIntervalMs: 3600_000, retryDelayMs: 60_000,
        clock: { ...realClock, now: () => (t += 5) },
        onRun: (r) => {
          reports.push(r);
          if (tc.throwInHook) throw new Error('broken metrics');
        },
      });
      rec.start();
      rec.setPeers([lease]);
      const outcome = await rec.reconcileNow().then((s) => s.writes, (e: Error) => e.message);
      await rec.stop();
      expect(reports).to.have.length(1);
      expect(reports[0]!.result).to.equal(tc.want.result);
      expect(reports[0]!.durationMs).to.be.above(0);
      if (tc.want.writes !== undefined) {
        expect(outcome).to.equal(tc.want.writes);
        expect(reports[0]!.stats?.writes).to.equal(tc.want.writes);
      } else {
        expect(outcome).to.match(/backend setup/);
        expect(reports[0]!.stats).to.equal(undefined);
      }
    });
  }
});
