/**
 * BGP at the edge (issue 19): a real knitd (node1) with a good peer (BIRD,
 * the lab's router, eBGP) and two scripted hostile peers of our own
 * (test/lab/bgp-script-peer.ts, speaking knit's codec from their own
 * underlay addresses): an eBGP peer configured with `import: "all"` and a
 * small max-prefix, and a "route reflector" (iBGP) with the default import.
 *
 * - every refused class of route and every bad next hop of the issue never
 *   reaches the kernel, is logged with its reason, and is not retried
 *   against the kernel; a plain route from the same peer is installed;
 * - the reflector cannot install another node's subnet without that node's
 *   lease behind it, nor anything outside the cluster space;
 * - a flood of flaps, refused routes and route churn grows knitd's log by
 *   a bounded amount;
 * - a connection flood (from the peer's address and from an unknown one)
 *   leaves the BIRD session Established and the API answering;
 * - one prefix over max-prefix: Cease 6/1 with AFI/SAFI/limit, routes gone,
 *   refused (6/5) while idle, back after the idle time.
 * Through all of it the BIRD session stays up.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { encodeMessage, type UpdateMessage } from '../../agent/src/bgp/codec';
import { mustPrefix as P } from '../support/bgp-fuzz';
import { startScriptPeer, type PeerEvent, type ScriptPeer } from '../lab/bgp-script-peer';
import { REPO_ROOT, startKnitd, type Knitd } from '../lab/knitd';
import { createLab, type Lab } from '../lab/lab';
import { nsRun } from '../lab/netns';
import { routesIn, startBird, waitFor, type Bird } from './bgp-lab';
import { cleanupAll } from '../lab/cleanup';

const execFileP = promisify(execFile);
const KNITCTL = `${REPO_ROOT}/agent/bin/knitctl`;
const HOSTILE_ASN = 65066;
const MAX_PREFIXES = 200;


function update4(prefixes: string[], nextHop: string, asns: number[] = [HOSTILE_ASN], withdrawn: string[] = []): Buffer {
  const m: UpdateMessage = { type: 'update', withdrawn: withdrawn.map(P), attributes: { origin: 0, asPath: [{ type: 'sequence', asns }], nextHop }, nlri: prefixes.map(P) };
  return encodeMessage(m, { fourOctetAs: true });
}

function update6(prefixes: string[], global: string, linkLocal?: string): Buffer {
  const m: UpdateMessage = {
    type: 'update', withdrawn: [], nlri: [],
    attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [HOSTILE_ASN] }], mpReach: { afi: 2, safi: 1, nextHop: linkLocal ? { global, linkLocal } : { global }, nlri: prefixes.map(P) } },
  };
  return encodeMessage(m, { fourOctetAs: true });
}

/**
 * Connect until Established: right after a close, knitd may not have seen
 * the FIN yet and answers the new connection as a collision (6/7).
 */
async function establishSoon(peer: ScriptPeer): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await peer.establish(3000);
      return;
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

interface SessionJson { peerAddress?: string; peer_address?: string; prefixesAccepted?: number; prefixes_accepted?: number; prefixesRejected?: Record<string, number>; prefixes_rejected?: Record<string, number>; maxPrefixHits?: number; max_prefix_hits?: number }

/** `knitctl bgp -o json` for one peer: accepted, rejected by reason, max-prefix hits. */
async function knitctlSession(socket: string, peer: string): Promise<{ accepted: number; rejected: Record<string, number>; maxPrefixHits: number }> {
  const { stdout } = await execFileP(process.execPath, [KNITCTL, '--socket', socket, 'bgp', '-o', 'json'], { encoding: 'utf8' });
  const s = (JSON.parse(stdout) as { sessions: SessionJson[] }).sessions.find((x) => (x.peerAddress ?? x.peer_address) === peer);
  if (!s) throw new Error(`knitctl bgp: no session with ${peer}: ${stdout}`);
  const num = (v: unknown): number => Number(v ?? 0);
  const rejected = Object.fromEntries(Object.entries(s.prefixesRejected ?? s.prefixes_rejected ?? {}).map(([k, v]) => [k, num(v)]));
  return { accepted: num(s.prefixesAccepted ?? s.prefixes_accepted), rejected, maxPrefixHits: num(s.maxPrefixHits ?? s.max_prefix_hits) };
}

const isNotification = (e: PeerEvent): e is Extract<PeerEvent, { ev: 'msg' }> => e.ev === 'msg' && e.type === 'notification';

describe('bgp: hostile peers against a real knitd (import policy, next hops, logs, floods, max-prefix)', function () {
  this.timeout(240_000);
  let lab: Lab;
  let bird: Bird;
  let knitd: Knitd;
  let node2: Knitd;
  let hostile: ScriptPeer;
  let reflector: ScriptPeer;
  let ip: (last: number) => string;

  const kernel = (): string[] => [...routesIn(lab.nodes[0]!.ns, 4, 90), ...routesIn(lab.nodes[0]!.ns, 6, 90)].map((r) => `${r.dst} via ${r.gateway}`);
  const kernelDsts = (): string[] => kernel().map((r) => r.split(' ')[0]!);
  const birdUp = (): boolean => /n1\s+BGP\s+---\s+up\s+\S+\s+Established/.test(bird.birdc('show', 'protocols'));
  const detail = (): string => `kernel: ${kernel().join(', ')}\nknitd:\n${knitd.proc.logTail(4000)}`;
  const log = (): string => knitd.proc.logTail(1 << 24);

  before(async () => {
    lab = await createLab({ nodes: 2, etcd: true });
    const plan = lab.underlay.plan;
    const base = plan.routerIp.split('.').slice(0, 3).join('.');
    ip = (last) => `${base}.${last}`;
    for (const last of [200, 201, 202]) nsRun(lab.underlay.ns, 'ip', ['addr', 'add', `${ip(last)}/${plan.prefixLen}`, 'dev', lab.underlay.bridge]);
    // IPv6 on the segment, so the hostile peer's IPv6 next hops are on-link.
    nsRun(lab.underlay.ns, 'ip', ['addr', 'add', '2001:db8:77::1/64', 'dev', lab.underlay.bridge, 'nodad']);
    nsRun(lab.nodes[0]!.ns, 'ip', ['addr', 'add', '2001:db8:77::11/64', 'dev', lab.nodes[0]!.dev, 'nodad']);
    bird = await startBird(lab.underlay.ns, `router id ${plan.routerIp};
log stderr all;
protocol device { scan time 1; }
template bgp knit { local ${plan.routerIp} as 65000; hold time 6; connect retry time 1; error wait time 1, 2; ipv4 { import all; export all; }; }
protocol bgp n1 from knit { neighbor ${lab.nodes[0]!.underlayIp} as 65001; }
protocol bgp n2 from knit { neighbor ${lab.nodes[1]!.underlayIp} as 65002; }
`, 'bird-hostile');
    const network = {
      clusterCidr: '10.244.0.0/16', subnetLength: 24,
      backend: {
        type: 'bgp', nodeAsns: { node1: 65001, node2: 65002 },
        peers: [
          { address: plan.routerIp, asn: 65000, import: 'all' },
          { address: ip(200), asn: HOSTILE_ASN, passive: true, import: 'all', maxPrefixes: MAX_PREFIXES, maxPrefixRestart: 5 },
        ],
        routeReflectors: [{ address: ip(201), passive: true }],
      },
    };
    knitd = await startKnitd(lab, lab.nodes[0]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
    node2 = await startKnitd(lab, lab.nodes[1]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
    await waitFor('BIRD session with node1', birdUp, 30_000, detail);
    hostile = await startScriptPeer(lab, lab.underlay.ns, { host: lab.nodes[0]!.underlayIp, source: ip(200), asn: HOSTILE_ASN });
    reflector = await startScriptPeer(lab, lab.underlay.ns, { host: lab.nodes[0]!.underlayIp, source: ip(201), asn: 65001 });
    await hostile.establish();
    await reflector.establish();
  });

  after(async () => {
    await cleanupAll([
      () => hostile?.stop(),
      () => reflector?.stop(),
      () => knitd?.destroy(),
      () => node2?.destroy(),
      () => bird?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('refuses every hijack class and bad next hop, logs each with its reason, installs the plain route', async () => {
    const own = knitd.subnet; // e.g. 10.244.N.0/24
    const ownUpper = own.replace(/\.0\/24$/, '.128/25');
    const bridgeIp = own.replace(/\.0\/24$/, '.1');
    const broadcast = ip(255);
    const refused: Array<[string, string, Buffer]> = [
      [ownUpper, 'own-subnet', update4([ownUpper], ip(200))],
      [`${ip(0)}/25`, 'underlay', update4([`${ip(0)}/25`], ip(200))],
      ['127.0.0.0/8', 'special-purpose', update4(['127.0.0.0/8'], ip(200))],
      ['224.0.0.0/4', 'special-purpose', update4(['224.0.0.0/4'], ip(200))],
      ['0.0.0.0/0', 'default-route', update4(['0.0.0.0/0'], ip(200))],
      ['::/0', 'default-route', update6(['::/0'], '2001:db8:77::200')],
      ['::1/128', 'special-purpose', update6(['::1/128'], '2001:db8:77::200')],
      ['fe80::/10', 'special-purpose', update6(['fe80::/10'], '2001:db8:77::200')],
      ['ff00::/8', 'special-purpose', update6(['ff00::/8'], '2001:db8:77::200')],
      ['10.97.1.0/24', 'next-hop', update4(['10.97.1.0/24'], '8.8.8.8')],
      ['10.97.2.0/24', 'next-hop', update4(['10.97.2.0/24'], '127.0.0.1')],
      ['10.97.3.0/24', 'next-hop', update4(['10.97.3.0/24'], broadcast)],
      ['10.97.4.0/24', 'next-hop', update4(['10.97.4.0/24'], bridgeIp)],
      ['10.97.5.0/24', 'next-hop', update4(['10.97.5.0/24'], '0.1.2.3')],
      ['10.97.6.0/24', 'next-hop', update4(['10.97.6.0/24'], lab.nodes[0]!.underlayIp)],
      ['10.97.7.0/24', 'first-as', update4(['10.97.7.0/24'], ip(200), [65099, HOSTILE_ASN])],
    ];
    for (const [, , msg] of refused) hostile.send(msg);
    hostile.send(update4(['10.98.0.0/16'], ip(200)));
    hostile.send(update6(['2001:db8:98::/48'], '2001:db8:77::200'));
    await waitFor('the plain routes installed', () => kernel().includes(`10.98.0.0/16 via ${ip(200)}`) && kernelDsts().includes('2001:db8:98::/48'), 15_000, detail);
    // The refused ones arrived before the plain ones: they were judged, none may be in the kernel.
    const dsts = new Set(kernelDsts());
    for (const [prefix] of refused) expect(dsts.has(prefix), `${prefix} in the kernel`).to.equal(false);
    const text = log();
    for (const [prefix, reason] of refused) expect(text, `log line for ${prefix}`).to.match(new RegExp(`route ${prefix.replace(/[.*/]/g, '\\$&')} via \\S+ not installed \\(${reason}\\)`));
    // Never tried against the kernel: no write errors, no ENETUNREACH retries.
    expect(text).to.not.match(/ENETUNREACH|reconcile write failed|IPv6 BGP route write failed/);
    expect(hostile.events.filter(isNotification), 'the session stays up').to.deep.equal([]);
    expect(birdUp()).to.equal(true);
    // knitctl bgp counts them per reason (the operator's view of the same).
    const counts = await knitctlSession(knitd.apiSocket, ip(200));
    expect(counts.accepted).to.equal(2);
    const want: Record<string, number> = {};
    for (const [, reason] of refused) want[reason] = (want[reason] ?? 0) + 1;
    expect(counts.rejected).to.deep.equal(want);
    const { stdout } = await execFileP(process.execPath, [KNITCTL, '--socket', knitd.apiSocket, 'bgp'], { encoding: 'utf8' });
    expect(stdout).to.match(/ACCEPTED\s+REJECTED\s+MAX-PREFIX-HITS/);
    expect(stdout).to.include(`16 (next-hop 6, special-purpose 5, default-route 2, first-as 1, own-subnet 1, underlay 1)`);
  });

  it('a route reflector cannot install a subnet without the owning node\'s lease, nor anything outside the cluster', async () => {
    const other = node2.subnet;
    const otherIp = lab.nodes[1]!.underlayIp;
    const otherUpper = other.replace(/\.0\/24$/, '.128/25');
    const cases: Array<[string, string]> = [
      [otherUpper, 'no-lease'],          // a more-specific of node2's subnet
      ['10.244.250.0/24', 'no-lease'],   // a subnet nobody leased
      ['10.96.0.0/16', 'filter'],        // outside the cluster space (default import "cluster")
    ];
    reflector.send(update4([otherUpper], otherIp, []));
    reflector.send(update4(['10.244.250.0/24'], otherIp, []));
    reflector.send(update4(['10.96.0.0/16'], ip(201), []));
    // node2's own subnet via node2: backed by its lease, accepted (BIRD announces it too).
    reflector.send(update4([other], otherIp, []));
    await waitFor('the reflector\'s refusals logged', () => cases.every(([p, r]) => log().includes(`route ${p} via`) && log().includes(`(${r})`)), 15_000, detail);
    const text = log();
    for (const [prefix, reason] of cases) expect(text).to.match(new RegExp(`route ${prefix.replace(/[.*/]/g, '\\$&')} via \\S+ not installed \\(${reason}\\)`));
    const dsts = new Set(kernelDsts());
    for (const [prefix] of cases) expect(dsts.has(prefix), `${prefix} in the kernel`).to.equal(false);
    expect(kernel()).to.include(`${other} via ${otherIp}`);
    const counts = await knitctlSession(knitd.apiSocket, ip(201));
    expect(counts).to.deep.include({ accepted: 1, rejected: { 'no-lease': 2, filter: 1 } });
    expect(text).to.not.match(new RegExp(`route ${other.replace(/[.*/]/g, '\\$&')} via \\S+ not installed`));
  });

  it('as a route-reflector client (RFC 4456): our own route reflected back (ORIGINATOR_ID) and a CLUSTER_LIST loop are ignored', async () => {
    const routerId = lab.nodes[0]!.underlayIp; // knitd's BGP router ID
    const other = node2.subnet;
    const otherIp = lab.nodes[1]!.underlayIp;
    const reflected = (prefix: string, nextHop: string, originatorId: string, clusterList: string[]): Buffer => encodeMessage({
      type: 'update', withdrawn: [], nlri: [P(prefix)],
      attributes: { origin: 0, asPath: [], nextHop, originatorId, clusterList },
    }, { fourOctetAs: true });
    // Our own subnet, echoed by the reflector with us as originator.
    reflector.send(reflected(knitd.subnet, routerId, routerId, [ip(201)]));
    // node2's subnet (lease-backed, otherwise acceptable) that already passed through a cluster with our ID.
    reflector.send(reflected(other, otherIp, otherIp, [ip(201), routerId]));
    await waitFor('both reflected routes refused as rr-loop', () => (log().match(/not installed \(rr-loop\)/g) ?? []).length >= 2, 15_000, detail);
    const counts = await knitctlSession(knitd.apiSocket, ip(201));
    expect(counts.rejected['rr-loop']).to.equal(2);
    // node2's subnet stays reachable through BIRD's path; nothing of ours points back at us.
    expect(kernel()).to.include(`${other} via ${otherIp}`);
    expect(kernelDsts()).to.not.include(knitd.subnet);
    expect(reflector.events.filter(isNotification), 'the session stays up').to.deep.equal([]);
  });

  it('path checks and RFC 7606: confederation segments and MP_REACH flags in conflict are treat-as-withdraw (session stays up); a bad 4-octet-AS capability gets 2/0', async () => {
    const from = hostile.events.length;
    // Installed first, so that treat-as-withdraw has something to withdraw.
    hostile.send(update4(['10.93.1.0/24'], ip(200)));
    hostile.send(update6(['2001:db8:93::/48'], '2001:db8:77::200'));
    await waitFor('both installed', () => kernelDsts().includes('10.93.1.0/24') && kernelDsts().includes('2001:db8:93::/48'), 10_000, detail);
    // AS_PATH [confed-sequence 65010, sequence 65066] from a peer: knit is in no confederation.
    const confed: UpdateMessage = {
      type: 'update', withdrawn: [], nlri: [P('10.93.1.0/24')],
      attributes: { origin: 0, asPath: [{ type: 'confed-sequence', asns: [65010] }, { type: 'sequence', asns: [HOSTILE_ASN] }], nextHop: ip(200) },
    };
    hostile.send(encodeMessage(confed, { fourOctetAs: true }));
    // MP_REACH_NLRI (optional, non-transitive) sent with the transitive bit set: flags 0xc0.
    const nh = '20010db8007700000000000000000200';
    const attrs = `40010100 4002060201${HOSTILE_ASN.toString(16).padStart(8, '0')} c00e1c 0002 01 10 ${nh} 00 30 20010db80093`.replace(/ /g, '');
    const body = `0000${(attrs.length / 2).toString(16).padStart(4, '0')}${attrs}`;
    hostile.send(Buffer.from(`${'ff'.repeat(16)}${(19 + body.length / 2).toString(16).padStart(4, '0')}02${body}`, 'hex'));
    await waitFor('both withdrawn', () => !kernelDsts().includes('10.93.1.0/24') && !kernelDsts().includes('2001:db8:93::/48'), 10_000, detail);
    expect(hostile.events.slice(from).filter(isNotification), 'no NOTIFICATION: the session stays up').to.deep.equal([]);
    expect(log()).to.match(/AS_PATH with confederation segments/);
    expect(log()).to.match(/attribute 14 with flags 0xc0/);
    // A 4-octet-AS capability of length 2: 2/0, no session. (It replaces the hostile session for a moment.)
    const open = `04 fe2a 005a ${ip(200).split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')} 0a 02 08 0104 00010001 4102 fe2a`.replace(/ /g, '');
    hostile.close();
    let answer = '';
    // Until knitd has seen the close, a new connection is a collision (6/7): retry.
    for (let i = 0; i < 20 && (answer === '' || answer === '6/7'); i++) {
      const at = hostile.events.length;
      hostile.connect(Buffer.from(`${'ff'.repeat(16)}${(19 + open.length / 2).toString(16).padStart(4, '0')}01${open}`, 'hex'));
      const n = await hostile.waitEvent(isNotification, 10_000, at);
      answer = `${n.code}/${n.subcode}`;
      if (answer === '6/7') await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).to.equal('2/0');
    await establishSoon(hostile);
    expect(birdUp()).to.equal(true);
  });

  it('a flood of flaps, refused routes and route churn grows the log by a bounded amount', async () => {
    const before = statSync(knitd.logPath).size;
    const linesBefore = log().split('\n').length;
    // 3000 refused routes, each withdrawn by the next UPDATE (so max-prefix is not the thing that stops it) …
    for (let i = 0; i < 3000; i++) {
      const p = `127.${(i >> 8) & 255}.${i & 255}.0/24`;
      const prev = i > 0 ? [`127.${((i - 1) >> 8) & 255}.${(i - 1) & 255}.0/24`] : [];
      hostile.send(update4([p], ip(200), [HOSTILE_ASN], prev));
    }
    // … 300 announce/withdraw rounds of an accepted route (kernel churn, reconcile runs) …
    for (let i = 0; i < 300; i++) {
      hostile.send(update4(['10.95.1.0/24'], ip(200)));
      hostile.send(update4([], ip(200), [HOSTILE_ASN], ['10.95.1.0/24']));
    }
    // … and 40 session flaps with an accepted route each time.
    for (let i = 0; i < 40; i++) {
      await establishSoon(hostile);
      hostile.send(update4(['10.95.2.0/24'], ip(200)));
      hostile.close();
    }
    await establishSoon(hostile);
    // Let the last batches, reconcile runs and transitions be written.
    await new Promise((r) => setTimeout(r, 1500));
    const grewBytes = statSync(knitd.logPath).size - before;
    const grewLines = log().split('\n').length - linesBefore;
    console.log(`      (flood: log grew by ${grewLines} lines, ${grewBytes} bytes)`);
    // Unlimited, this is > 3000 + 600 + 40 × 5 lines. Limited: at most 20 per peer and kind, 20 per reconcile key.
    expect(grewLines, `log lines added:\n${log().split('\n').slice(-40).join('\n')}`).to.be.below(200);
    expect(grewBytes).to.be.below(100_000);
    expect(birdUp()).to.equal(true);
  });

  it('a connection flood from the peer\'s address and from an unknown one: BIRD stays Established, the API answers', async () => {
    const unknown = await startScriptPeer(lab, lab.underlay.ns, { host: lab.nodes[0]!.underlayIp, source: ip(202), asn: 65077 });
    try {
      const fromPeer = hostile.events.length;
      const fromUnknown = unknown.events.length;
      hostile.flood(3000);
      unknown.flood(3000);
      let apiChecks = 0;
      let birdChecks = 0;
      const t0 = Date.now();
      let done = 0;
      while (done < 2 && Date.now() - t0 < 90_000) {
        // knitctl is a fresh Node process each time: generous timeout for a loaded machine, the error says why.
        const r = await execFileP(process.execPath, [KNITCTL, '--socket', knitd.apiSocket, 'status', '-o', 'json'], { encoding: 'utf8', timeout: 30_000 })
          .catch((err: { stderr?: string; killed?: boolean; message: string }) => ({ stdout: '', stderr: `${err.killed ? 'killed after 30 s: ' : ''}${err.stderr ?? err.message}` }));
        expect(r.stderr, 'knitctl status during the flood').to.equal('');
        expect(r.stdout.length).to.be.above(0);
        apiChecks++;
        expect(birdUp(), 'BIRD session Established during the flood').to.equal(true);
        birdChecks++;
        done = [hostile.events.slice(fromPeer), unknown.events.slice(fromUnknown)].filter((ev) => ev.some((e) => e.ev === 'flooded')).length;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(done, 'both floods finished').to.equal(2);
      expect(apiChecks).to.be.above(0);
      const flooded = [...hostile.events.slice(fromPeer), ...unknown.events.slice(fromUnknown)].filter((e): e is Extract<PeerEvent, { ev: 'flooded' }> => e.ev === 'flooded');
      expect(flooded.reduce((n, f) => n + f.opened + f.failed, 0)).to.equal(6000);
      // knitd holds a bounded number of sockets whatever the flood did.
      const fds = knitd.fdCount();
      console.log(`      (connection flood: 6000 connections in ${Date.now() - t0} ms; ${apiChecks} API and BIRD checks passed during it; knitd fds after: ${fds})`);
      expect(fds, 'knitd fds after the flood').to.be.below(200);
      // BIRD kept its session for longer than its hold time (6 s) would allow a stall.
      expect(birdUp()).to.equal(true);
      expect(birdChecks).to.be.above(0);
      hostile.unflood();
      unknown.unflood();
    } finally {
      await unknown.stop();
    }
  });

  it('max-prefix: Cease 6/1 with AFI/SAFI/limit, its routes leave the kernel, refused (6/5) while idle, back afterwards', async () => {
    await establishSoon(hostile);
    hostile.send(update4(['10.98.0.0/16'], ip(200)));
    await waitFor('plain route installed', () => kernel().includes(`10.98.0.0/16 via ${ip(200)}`), 10_000, detail);
    const from = hostile.events.length;
    const prefixes = Array.from({ length: MAX_PREFIXES + 1 }, (_, i) => `10.94.${i}.0/24`);
    hostile.send(update4(prefixes, ip(200)));
    const n = await hostile.waitEvent(isNotification, 10_000, from);
    expect(`${n.code}/${n.subcode} ${n.data}`).to.equal(`6/1 000101${MAX_PREFIXES.toString(16).padStart(8, '0')}`);
    await waitFor('its routes left the kernel', () => !kernelDsts().some((d) => d === '10.98.0.0/16' || d.startsWith('10.94.')), 10_000, detail);
    // Idle: a reconnect is refused with 6/5.
    const again = hostile.events.length;
    hostile.connect();
    const refused = await hostile.waitEvent(isNotification, 5000, again);
    expect(`${refused.code}/${refused.subcode}`).to.equal('6/5');
    // After maxPrefixRestart (5 s) the peer may come back.
    await new Promise((r) => setTimeout(r, 5000));
    await establishSoon(hostile);
    expect(birdUp()).to.equal(true);
    expect((await knitctlSession(knitd.apiSocket, ip(200))).maxPrefixHits).to.equal(1);
  });
});
