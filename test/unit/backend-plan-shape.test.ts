/**
 * Every plan a backend makes for a peer has the same hidden class
 * (backend/peer-plan.ts says why: one map per object cost knitd ≈ 3 MiB and
 * megamorphic reads at 10 000 peers). V8 tells that only with
 * --allow-natives-syntax, so the check runs in a child node.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const BACKEND = join(__dirname, '..', '..', 'agent', 'src', 'backend');

const SCRIPT = `
const { planHostGw, planIpip, planVxlan, VxlanPlanCache, HostGwPlanCache } = require(${JSON.stringify(BACKEND)});
const lease = (i, type, data) => ({
  subnet: '10.' + (100 + (i >> 8)) + '.' + (i & 255) + '.0/24', nodeName: 'n' + i,
  publicIp: '192.168.' + (1 + (i >> 8)) + '.' + (i & 255), backend: { type, data }, renewedAt: '2026-01-01T00:00:00.000Z',
});
const mac = (i) => '0a:00:00:00:' + (i >> 8).toString(16).padStart(2, '0') + ':' + (i & 255).toString(16).padStart(2, '0');
const seg = [{ network: 0xc0a80000, prefixLength: 16 }];
const out = {};
const count = (plans) => plans.filter((p) => %HaveSameMap(p, plans[0])).length;
for (const nexthops of [true, false]) {
  const vx = planVxlan(Array.from({ length: 500 }, (_, i) => lease(i, 'vxlan', { vtepMac: mac(i) })),
    { deviceIndex: 7, underlayIndex: 2, underlayPrefixes: [], directRouting: false, ownVtepMac: '0a:ff:00:00:00:01', ipv6: false, underlayPrefixes6: [], nexthops }, new VxlanPlanCache());
  const direct = planVxlan(Array.from({ length: 500 }, (_, i) => lease(i, 'vxlan', { vtepMac: mac(i) })),
    { deviceIndex: 7, underlayIndex: 2, underlayPrefixes: seg, directRouting: true, ownVtepMac: '0a:ff:00:00:00:01', ipv6: false, underlayPrefixes6: [], nexthops }, new VxlanPlanCache());
  const hg = planHostGw(Array.from({ length: 500 }, (_, i) => lease(i, 'host-gw', {})),
    { underlayIndex: 2, underlayName: 'eth0', underlayPrefixes: seg, underlayPrefixes6: [], ipv6: false, nexthops }, new HostGwPlanCache());
  out['vxlan' + nexthops] = [vx.peers.length, count(vx.peers)];
  out['direct' + nexthops] = [direct.peers.length, count(direct.peers)];
  out['host-gw' + nexthops] = [hg.peers.length, count(hg.peers)];
}
const ip = planIpip(Array.from({ length: 500 }, (_, i) => lease(i, 'ipip', {})), { deviceIndex: 9 });
out.ipip = [ip.peers.length, count(ip.peers)];
process.stdout.write(JSON.stringify(out));
`;

describe('backend: plan objects share one hidden class', () => {
  it('500 vxlan, direct-routing, host-gw and ipip plans each: every one of the same map', function () {
    this.timeout(20_000);
    const out = JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '-e', SCRIPT], { encoding: 'utf8' })) as Record<string, [number, number]>;
    expect(Object.keys(out)).to.have.length(7);
    for (const [kind, [plans, same]] of Object.entries(out)) {
      expect(plans, `${kind}: plans made`).to.equal(500);
      expect(same, `${kind}: plans sharing the first one's map`).to.equal(500);
    }
  });
});
