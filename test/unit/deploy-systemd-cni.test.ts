/**
 * deploy/systemd and deploy/cni checked against knit itself: the unit's
 * restart and hardening settings, its config file accepted by knitd's config
 * loader with every directory knitd writes inside the unit's ReadWritePaths,
 * and the example conflist's knit entry accepted by knitd's CNI config
 * parser, with its socket where knitd listens by default.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNITD_NODE_FLAGS } from '../lab/knitd';
import { loadConfig } from '../../agent/src/config';
import { parseNetConf } from '../../agent/src/cni/netconf';

const REPO = join(__dirname, '..', '..', '..');

/** systemd unit → section → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      current = new Map();
      sections.set(sec[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`unit line outside a section or without '=': ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

describe('deploy/systemd/knitd.service', () => {
  const unit = parseUnit(readFileSync(join(REPO, 'deploy', 'systemd', 'knitd.service'), 'utf8'));
  const svc = unit.get('Service')!;
  const one = (k: string): string | undefined => svc.get(k)?.at(-1);
  const words = (k: string): string[] => (svc.get(k) ?? []).flatMap((v) => v.split(/\s+/)).filter((w) => w !== '');

  const cases: Array<[string, string]> = [
    ['Restart', 'always'],
    ['KillMode', 'process'],
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
  ];
  for (const [key, value] of cases) it(`${key}=${value}`, () => expect(one(key)).to.equal(value));

  it('keeps the capabilities netlink, nftables and setns need, and no others beyond raw sockets and BGP\'s port', () => {
    const caps = words('CapabilityBoundingSet');
    for (const c of ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN']) expect(caps).to.include(c);
    expect(caps.every((c) => ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_NET_RAW', 'CAP_NET_BIND_SERVICE'].includes(c)), caps.join(' ')).to.equal(true);
  });

  it('is installed for multi-user.target and starts knitd from /opt/knit', () => {
    expect(unit.get('Install')!.get('WantedBy')).to.deep.equal(['multi-user.target']);
    // The same node heap flags as agent/bin/knitd's shebang.
    expect(one('ExecStart')).to.equal(['/usr/bin/node', ...KNITD_NODE_FLAGS, '/opt/knit/agent/bin/knitd'].join(' '));
  });

  it('its config file is accepted by knitd, and every path knitd writes is a ReadWritePath', () => {
    const env = Object.fromEntries((svc.get('Environment') ?? []).map((e) => e.split('=') as [string, string]));
    expect(env.KNIT_CONFIG).to.equal('/etc/knit/knitd.yaml');
    const text = readFileSync(join(REPO, 'deploy', 'systemd', 'knitd.yaml'), 'utf8');
    const cfg = loadConfig({
      argv: [], env, hostname: 'worker-1',
      readFile: (p) => {
        if (p !== env.KNIT_CONFIG) throw new Error(`unexpected read of ${p}`);
        return text;
      },
    });
    expect(cfg.etcd.endpoints.length, 'cluster mode').to.be.greaterThan(0);
    expect(cfg.nodeName).to.equal('worker-1');
    const rw = words('ReadWritePaths').map((p) => p.replace(/^-/, ''));
    for (const p of [cfg.stateDir, cfg.runDir, cfg.cniConfDir, cfg.cniSocket, cfg.grpc.socket]) {
      expect(rw.some((d) => p === d || p.startsWith(`${d}/`)), `${p} writable`).to.equal(true);
    }
    for (const d of ['/var/lib/knit', '/run/knit', '/etc/cni/net.d']) expect(rw).to.include(d);
  });
});

describe('deploy/cni/knit-chained.conflist', () => {
  const list = JSON.parse(readFileSync(join(REPO, 'deploy', 'cni', 'knit-chained.conflist'), 'utf8')) as {
    cniVersion: string; name: string; plugins: Array<Record<string, unknown> & { type: string; capabilities?: Record<string, boolean> }>;
  };

  it('chains knit first, then portmap and bandwidth', () => {
    expect(list.plugins.map((p) => p.type)).to.deep.equal(['knit', 'portmap', 'bandwidth']);
  });

  it('asks exactly one plugin for port mappings', () => {
    expect(list.plugins.filter((p) => p.capabilities?.portMappings === true).map((p) => p.type)).to.deep.equal(['portmap']);
    expect(list.plugins.find((p) => p.type === 'bandwidth')!.capabilities).to.deep.equal({ bandwidth: true });
  });

  it('its knit entry, as a runtime hands it to the plugin, is accepted by knitd with the default socket', () => {
    // A runtime gives each plugin the list's cniVersion and name plus its own entry.
    const conf = parseNetConf(JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] }));
    expect(conf.type).to.equal('knit');
    expect(conf.name).to.equal('knit');
    const cfg = loadConfig({ argv: ['--subnet', '10.244.1.0/24'], env: {}, readFile: () => '', hostname: 'n1' });
    expect(conf.agentSocket).to.equal(cfg.cniSocket);
  });

  it('a broken knit entry is refused by the same parser (the check above can fail)', () => {
    expect(() => parseNetConf(JSON.stringify({ cniVersion: '9.9.9', name: list.name, ...list.plugins[0] }))).to.throw();
  });
});
