/** The demo's command line and report rendering (demo/src/args.ts, report.ts). */
import { expect } from 'chai';
import { demoPlace, parseDemoArgs } from '../../demo/src/args';
import { cellText, matrixSummary, renderMatrix } from '../../demo/src/report';

describe('demo arguments', () => {
  const ok: Array<{ argv: string[]; want: Partial<ReturnType<typeof parseDemoArgs>> }> = [
    { argv: [], want: { action: 'up', backend: 'vxlan', nodes: 3, containers: 2, keep: false, dualStack: false, ipv6Only: false } },
    { argv: ['--dual-stack', '--backend', 'host-gw'], want: { backend: 'host-gw', dualStack: true } },
    { argv: ['--ipv6-only'], want: { backend: 'vxlan', ipv6Only: true, dualStack: false } },
    { argv: ['--backend', 'host-gw', '--nodes', '2'], want: { backend: 'host-gw', nodes: 2 } },
    { argv: ['--backend=ipip', '--containers=5', '--keep'], want: { backend: 'ipip', containers: 5, keep: true } },
    { argv: ['--down'], want: { action: 'down' } },
    { argv: ['--nodes', '2', '--help'], want: { action: 'help' } },
  ];
  for (const tc of ok) it(`accepts ${tc.argv.join(' ') || '(nothing)'}`, () => expect(parseDemoArgs(tc.argv)).to.include(tc.want));

  const bad: Array<[string[], RegExp]> = [
    [['--backend', 'bgp'], /--backend must be one of vxlan, host-gw, ipip/],
    [['--nodes', '0'], /--nodes must be 1\.\.9/],
    [['--nodes', '10'], /--nodes must be 1\.\.9/],
    [['--containers', 'x'], /--containers needs a whole number/],
    [['--nodes'], /--nodes needs a whole number, got nothing/],
    [['--down', '--keep'], /--down takes no other options/],
    [['--bogus'], /unknown argument --bogus/],
    [['--dual-stack', '--backend', 'ipip'], /--dual-stack needs --backend vxlan or host-gw/],
    [['--ipv6-only', '--backend', 'ipip'], /--ipv6-only needs --backend vxlan or host-gw/],
    [['--ipv6-only', '--dual-stack'], /pick one/],
  ];
  for (const [argv, re] of bad) it(`refuses ${argv.join(' ')}`, () => expect(() => parseDemoArgs(argv)).to.throw(re));

  it('places the demo by env, refusing prefixes that would overflow 15-char names', () => {
    expect(demoPlace({})).to.deep.equal({ prefix: 'kdemo-', dir: '/run/knit-demo' });
    expect(demoPlace({ KNIT_DEMO_PREFIX: 't-1a2b-d', KNIT_DEMO_DIR: '/tmp/x' })).to.deep.equal({ prefix: 't-1a2b-d', dir: '/tmp/x' });
    expect(() => demoPlace({ KNIT_DEMO_PREFIX: 'much-too-long-' })).to.throw(/1\.\.10 characters/);
    expect(() => demoPlace({ KNIT_DEMO_DIR: 'relative' })).to.throw(/absolute/);
  });
});

describe('demo report', () => {
  const m = {
    labels: ['a', 'b', 'c'],
    cells: [[undefined, { pass: true, rttMs: 0.1234 }, { pass: false }], [{ pass: true, rttMs: 1 }, undefined, { pass: true }], [{ pass: true, rttMs: 2 }, { pass: true, rttMs: 3 }, undefined]],
  };

  it('renders cells: diagonal, RTT with 3 decimals, FAIL', () => {
    expect([cellText(undefined), cellText({ pass: true, rttMs: 0.1234 }), cellText({ pass: false }), cellText({ pass: true })]).to.deep.equal(['-', '0.123ms', 'FAIL', 'ok']);
  });

  it('counts pairs without the diagonal and says how many failed', () => {
    expect(matrixSummary(m)).to.deep.equal({ passed: 5, total: 6 });
    expect(renderMatrix(m)).to.match(/\nconnectivity: 5\/6 pairs pass, 1 FAIL$/);
    expect(renderMatrix(m).split('\n')[0]).to.equal('FROM \\ TO  a        b        c');
  });
});
