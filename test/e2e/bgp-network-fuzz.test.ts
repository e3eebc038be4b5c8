/**
 * Network fuzz of a running knitd (issue 19): a scripted peer
 * (test/lab/bgp-script-peer.ts) sends N random and mutated BGP messages
 * over real TCP to a real knitd whose good BIRD session runs next to it.
 * The corpus is the codec samples plus UPDATEs of every class the import
 * policy refuses (own subnet, underlay, special-purpose, default, bad next
 * hops), so a mutation that slips through would show in the kernel. A
 * session the fuzz ends is re-established and the fuzz goes on.
 *
 * At the end: knitd is alive, the BIRD session never left Established,
 * every protocol-90 route in the kernel passes the policy's rules (checked
 * here independently of knit's code), and knitd's memory and log growth are
 * reported.
 *
 * Long-running, so gated: KNIT_BGP_NETWORK_FUZZ=<messages> (e.g. 10000)
 * runs it; BGP_FUZZ_SEED=<n> changes the fixed seed. Figures from one run
 * are in docs/bgp.md.
 */
import { expect } from 'chai';
import { readFileSync, statSync } from 'node:fs';
import { encodeMessage, type UpdateMessage } from '../../agent/src/bgp/codec';
import { startScriptPeer, type PeerEvent, type ScriptPeer } from '../lab/bgp-script-peer';
import { startKnitd, type Knitd } from '../lab/knitd';
import { createLab, type Lab } from '../lab/lab';
import { nsRun } from '../lab/netns';
import { sampleMessages } from '../support/bgp-codec-samples';
import { bgpMutator, mustPrefix as P } from '../support/bgp-fuzz';
import { prng } from '../support/prng';
import { routesIn, startBird, waitFor, type Bird } from './bgp-lab';
import { cleanupAll } from '../lab/cleanup';

const MESSAGES = Number(process.env.KNIT_BGP_NETWORK_FUZZ ?? 0);
const SEED = Number(process.env.BGP_FUZZ_SEED ?? 19019);
const HOSTILE_ASN = 65066;
const CHUNK = 10;


/** IPv4 "a.b.c.d" as a number. */
function v4(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** dst (IPv4 CIDR) is inside (or equal to) cidr. */
function inside(dst: string, cidr: string): boolean {
  const [a, l] = dst.split('/');
  const [b, m] = cidr.split('/');
  const len = Number(l);
  const outer = Number(m);
  if (len < outer) return false;
  const shift = 32 - outer;
  return outer === 0 || Math.floor(v4(a!) / 2 ** shift) === Math.floor(v4(b!) / 2 ** shift);
}

(MESSAGES > 0 ? describe : describe.skip)(`bgp: network fuzz of a running knitd (${MESSAGES} messages, seed ${SEED})`, function () {
  this.timeout(1_800_000);
  let lab: Lab;
  let bird: Bird;
  let knitd: Knitd;
  let peer: ScriptPeer;
  let ip: (last: number) => string;

  const birdUp = (): boolean => /n1\s+BGP\s+---\s+up\s+\S+\s+Established/.test(bird.birdc('show', 'protocols'));

  before(async () => {
    lab = await createLab({ nodes: 1, etcd: true });
    const plan = lab.underlay.plan;
    const base = plan.routerIp.split('.').slice(0, 3).join('.');
    ip = (last) => `${base}.${last}`;
    nsRun(lab.underlay.ns, 'ip', ['addr', 'add', `${ip(200)}/${plan.prefixLen}`, 'dev', lab.underlay.bridge]);
    bird = await startBird(lab.underlay.ns, `router id ${plan.routerIp};
log stderr { warning, error, fatal };
protocol device { scan time 1; }
protocol static s4 { ipv4; route 10.99.0.0/16 blackhole; }
protocol bgp n1 { local ${plan.routerIp} as 65000; neighbor ${lab.nodes[0]!.underlayIp} as 65001; hold time 6; connect retry time 1; ipv4 { import all; export all; }; }
`, 'bird-fuzz');
    const network = {
      clusterCidr: '10.244.0.0/16', subnetLength: 24,
      backend: {
        type: 'bgp', asn: 65001,
        peers: [{ address: plan.routerIp, asn: 65000, import: 'all' }, { address: ip(200), asn: HOSTILE_ASN, passive: true, import: 'all' }],
      },
    };
    knitd = await startKnitd(lab, lab.nodes[0]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
    await waitFor('BIRD session and its route', () => birdUp() && routesIn(lab.nodes[0]!.ns, 4, 90).some((r) => r.dst === '10.99.0.0/16'), 30_000);
    peer = await startScriptPeer(lab, lab.underlay.ns, { host: lab.nodes[0]!.underlayIp, source: ip(200), asn: HOSTILE_ASN });
  });

  after(async () => {
    await cleanupAll([
      () => peer?.stop(),
      () => knitd?.destroy(),
      () => bird?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('knitd survives, the BIRD session stays up, and no refused class reaches the kernel', async () => {
    const rnd = prng(SEED);
    const own = knitd.subnet;
    const node = lab.nodes[0]!.underlayIp;
    const hostileUpdate = (prefixes: string[], nextHop: string): Buffer => {
      const m: UpdateMessage = { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [HOSTILE_ASN] }], nextHop }, nlri: prefixes.map(P) };
      return encodeMessage(m, { fourOctetAs: true });
    };
    const corpus = [
      ...sampleMessages().filter((s) => s.msg.type !== 'open').map((s) => encodeMessage(s.msg, { fourOctetAs: true })),
      hostileUpdate([own.replace(/\.0\/24$/, '.128/25')], ip(200)),
      hostileUpdate([`${ip(0)}/25`], ip(200)),
      hostileUpdate(['127.0.0.0/8', '224.0.0.0/4', '0.0.0.0/0'], ip(200)),
      hostileUpdate(['10.97.1.0/24'], '8.8.8.8'),
      hostileUpdate(['10.97.2.0/24'], node),
      hostileUpdate(['10.97.3.0/24'], ip(255)),
      hostileUpdate(['10.98.0.0/16', '10.98.1.0/24'], ip(200)),
    ];
    const mutate = bgpMutator(rnd, corpus, { unmutatedShare: 0.15 }); // unmutated: the hijack UPDATEs must be refused as they are

    const logBefore = statSync(knitd.logPath).size;
    const t0 = Date.now();
    let sessions = 0;
    let birdDown = 0;
    const establish = async (): Promise<void> => {
      for (let i = 0; ; i++) {
        try {
          await peer.establish(5000);
          sessions++;
          return;
        } catch (err) {
          if (i >= 50) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    await establish();
    let sent = 0;
    while (sent < MESSAGES) {
      const from = peer.events.length;
      const n = Math.min(CHUNK, MESSAGES - sent);
      for (let i = 0; i < n; i++) peer.send(mutate());
      sent += n;
      await new Promise((r) => setTimeout(r, 15));
      if (peer.events.slice(from).some((e: PeerEvent) => e.ev === 'closed')) await establish();
      if (sent % 1000 < CHUNK) {
        if (!birdUp()) birdDown++;
        expect(knitd.proc.running(), 'knitd alive').to.equal(true);
      }
    }
    const seconds = (Date.now() - t0) / 1000;
    expect(knitd.proc.running(), 'knitd alive at the end').to.equal(true);
    expect(birdDown, 'checks that found the BIRD session down').to.equal(0);
    expect(birdUp()).to.equal(true);
    // A last clean session gets the hijack UPDATEs unmutated, and the plain route as a marker that they were processed.
    await establish();
    for (const m of corpus.slice(-7)) peer.send(m);
    await waitFor('the plain route of the last session', () => routesIn(lab.nodes[0]!.ns, 4, 90).some((r) => r.dst === '10.98.0.0/16'), 15_000, () => knitd.proc.logTail(3000));

    // Every protocol-90 route: outside the node's own subnet, underlay and special ranges, via a usable next hop on the underlay.
    const routes = routesIn(lab.nodes[0]!.ns, 4, 90);
    const underlay = `${ip(0)}/${lab.underlay.plan.prefixLen}`;
    const special = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4'];
    expect(routes.some((r) => r.dst === '10.99.0.0/16'), 'BIRD\'s route still installed').to.equal(true);
    expect(routes.some((r) => r.dst === '10.98.1.0/24'), 'the hostile peer\'s plain routes installed').to.equal(true);
    for (const r of routes) {
      const dst = r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`;
      expect(dst, 'default route').to.not.equal('0.0.0.0/0');
      expect(inside(dst, own), `${dst} inside the own subnet`).to.equal(false);
      expect(inside(dst, underlay), `${dst} inside the underlay`).to.equal(false);
      for (const s of special) expect(inside(dst, s), `${dst} inside ${s}`).to.equal(false);
      const gw = r.gateway ?? '';
      expect(inside(`${gw}/32`, underlay) && gw !== node && gw !== ip(255) && gw !== ip(0), `${dst} via ${gw}`).to.equal(true);
    }
    const status = readFileSync(`/proc/${knitd.pid}/status`, 'utf8');
    const mb = (k: string): number => Math.round(Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(k)) ?? '')?.[1] ?? 0) / 1024);
    const notifications = new Map<string, number>();
    for (const e of peer.events) if (e.ev === 'msg' && e.type === 'notification') notifications.set(`${e.code}/${e.subcode}`, (notifications.get(`${e.code}/${e.subcode}`) ?? 0) + 1);
    console.log(`      (${sent} messages in ${seconds.toFixed(1)} s over ${sessions} sessions; NOTIFICATIONs from knitd: ${[...notifications].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`).join(' ')}; ` +
      `knitd RSS ${mb('VmRSS')} MiB (peak ${mb('VmHWM')} MiB); log +${Math.round((statSync(knitd.logPath).size - logBefore) / 1024)} KiB; kernel proto-90 routes: ${routes.length}; BIRD session up throughout)`);
  });
});
