/**
 * The lab's pure parts: underlay address plan, names, the sweep's decision
 * which names belong to dead runs, and /proc/<pid>/stat parsing.
 */
import { expect } from 'chai';
import { RUN_PREFIX, labTag, uniqueName } from '../lab/netns';
import { parseStatStartTime } from '../lab/run-dir';
import { labNamePidKey, strayNames } from '../lab/sweep';
import { intToIpv4, ipv4ToInt, planUnderlay } from '../lab/underlay-plan';

describe('lab naming', () => {
  it('gives names with the run prefix that fit an interface name', () => {
    const n = uniqueName('x');
    expect(n.startsWith(`${RUN_PREFIX}-`)).to.equal(true);
    expect(n.length).to.be.at.most(15);
    expect(uniqueName('x')).to.not.equal(n);
  });

  it('refuses a tag that would make a name longer than 15 chars', () => {
    expect(() => uniqueName('much-too-long')).to.throw(/longer than 15/);
  });

  it('takes the tag from KNIT_LAB_PREFIX (default "t"), refusing one that would not fit', () => {
    expect(labTag({})).to.equal('t');
    expect(labTag({ KNIT_LAB_PREFIX: 'kd6' })).to.equal('kd6');
    for (const bad of ['kd66', 'KD6', '6kd', 'k-6', 'k/']) expect(() => labTag({ KNIT_LAB_PREFIX: bad }), bad).to.throw(/KNIT_LAB_PREFIX/);
  });

  it('encodes this process pid in the run prefix', () => {
    expect(labNamePidKey(`${RUN_PREFIX}-n1`)).to.equal(process.pid & 0xffff);
  });
});

describe('lab underlay plan', () => {
  it('puts the router on .1 and nodes from .11 in the default range', () => {
    const p = planUnderlay('192.168.77.0/24', 3, 1);
    expect(p).to.deep.equal({
      cidr: '192.168.77.0/24',
      prefixLen: 24,
      routerIp: '192.168.77.1',
      nodeIps: ['192.168.77.11', '192.168.77.12', '192.168.77.13'],
      etcdIps: ['192.168.77.1'],
    });
  });

  const etcdCases: Array<{ members: 0 | 1 | 3; ips: string[] }> = [
    { members: 0, ips: [] },
    { members: 1, ips: ['10.9.0.1'] },
    { members: 3, ips: ['10.9.0.2', '10.9.0.3', '10.9.0.4'] },
  ];
  for (const tc of etcdCases) {
    it(`gives ${tc.members} etcd member(s) the addresses ${tc.ips.join(', ') || 'none'}`, () => {
      expect(planUnderlay('10.9.0.0/16', 2, tc.members).etcdIps).to.deep.equal(tc.ips);
    });
  }

  it('normalises a CIDR given with host bits', () => {
    const p = planUnderlay('172.31.5.77/24', 1, 0);
    expect(p.cidr).to.equal('172.31.5.0/24');
    expect(p.nodeIps).to.deep.equal(['172.31.5.11']);
  });

  it('fits exactly as many nodes as the range has hosts after .10', () => {
    // A /27 has hosts .1–.30: nodes .11–.30 are 20.
    expect(planUnderlay('10.0.0.0/27', 20, 0).nodeIps.at(-1)).to.equal('10.0.0.30');
    expect(() => planUnderlay('10.0.0.0/27', 21, 0)).to.throw(/room for 20 nodes, asked for 21/);
  });

  const bad: Array<{ cidr: string; nodes: number; err: RegExp }> = [
    { cidr: '192.168.77.0', nodes: 1, err: /expected a\.b\.c\.d\/len/ },
    { cidr: '192.168.777.0/24', nodes: 1, err: /not an IPv4 address/ },
    { cidr: '192.168.77.0/31', nodes: 1, err: /prefix length/ },
    { cidr: '192.168.77.0/24', nodes: 0, err: /at least one node/ },
    { cidr: '192.168.77.0/24', nodes: 1.5, err: /at least one node/ },
  ];
  for (const tc of bad) {
    it(`rejects ${tc.cidr} with ${tc.nodes} nodes`, () => {
      expect(() => planUnderlay(tc.cidr, tc.nodes, 1)).to.throw(tc.err);
    });
  }

  it('round-trips IPv4 through numbers at both ends of the space', () => {
    for (const ip of ['0.0.0.0', '10.244.1.1', '255.255.255.255']) expect(intToIpv4(ipv4ToInt(ip))).to.equal(ip);
    expect(ipv4ToInt('255.255.255.255')).to.equal(0xffffffff);
  });
});

describe('lab sweep decisions', () => {
  const keyCases: Array<{ name: string; key: number | undefined }> = [
    { name: 't-1a2b-n1', key: 0x1a2b },
    { name: 't-0000-L1-ul', key: 0 },
    { name: 't-nftx-probe', key: undefined },
    { name: 't-1A2B-n1', key: undefined },
    { name: 't-1a2-n1', key: undefined },
    { name: 'eth0', key: undefined },
    { name: 'x-1a2b-n1', key: undefined },
  ];
  for (const tc of keyCases) {
    it(`reads pid key ${String(tc.key)} from ${tc.name}`, () => {
      expect(labNamePidKey(tc.name)).to.equal(tc.key);
    });
  }

  it('selects only lab names whose pid key no live process has', () => {
    const names = ['t-0001-n1', 't-0002-L1-ul', 't-0003-n2', 't-nftx-probe', 'cni-1234', 't-0002-c3'];
    expect(strayNames(names, new Set([1, 3]))).to.deep.equal(['t-0002-L1-ul', 't-0002-c3']);
    expect(strayNames(names, new Set([1, 2, 3]))).to.deep.equal([]);
  });
});

describe('lab /proc/<pid>/stat parsing', () => {
  const tail = 'R 12844 12844 2972 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 85474 3133440 413';
  const cases: Array<{ name: string; stat: string; start: string | undefined }> = [
    { name: 'plain command', stat: `12887 (cat) ${tail}`, start: '85474' },
    { name: 'command with spaces and parentheses', stat: `12887 (a) b (c)) ${tail}`, start: '85474' },
    { name: 'truncated line', stat: '12887 (cat) R 1 2', start: undefined },
    { name: 'no command field', stat: 'garbage', start: undefined },
  ];
  for (const tc of cases) {
    it(`reads the start time of a ${tc.name}`, () => {
      expect(parseStatStartTime(tc.stat)).to.equal(tc.start);
    });
  }
});
