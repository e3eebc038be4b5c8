/**
 * The self-contained plugin (scripts/build-sea.sh: a Node.js single
 * executable application with the bundled plugin inside), copied alone into a
 * bin dir and run with PATH set to that dir only — no `node` reachable — the
 * way a runtime on a host without Node.js runs it: it answers VERSION and does
 * a real ADD/DEL round trip against a real knitd.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../lab/lab';
import { REPO_ROOT, hostVeths, ipJson, runPlugin, startKnitd, type Knitd } from '../lab/knitd';
import { makeTempDir } from '../lab/run-dir';

describe('knit plugin as a single executable application (no node on PATH)', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitd: Knitd;
  let binDir: string;
  let bin: string;

  before(async () => {
    const dir = makeTempDir('sea');
    const built = join(dir, 'knit-sea');
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'build-sea.sh'), built], { cwd: REPO_ROOT, stdio: 'pipe' });
    binDir = join(dir, 'bin');
    mkdirSync(binDir);
    bin = join(binDir, 'knit');
    copyFileSync(built, bin);
    chmodSync(bin, 0o755);
    lab = await createLab({ nodes: 1 });
    knitd = await startKnitd(lab, lab.nodes[0]!);
  });
  after(async () => {
    await knitd?.destroy();
    await lab?.teardown();
  });

  it('sits alone in a PATH where node cannot be found', () => {
    expect(readdirSync(binDir)).to.deep.equal(['knit']);
    expect(existsSync(join(binDir, 'node'))).to.equal(false);
    let found = true;
    try {
      execFileSync('sh', ['-c', 'command -v node'], { env: { PATH: binDir }, stdio: 'pipe' });
    } catch {
      found = false;
    }
    expect(found, 'node resolvable with PATH=binDir').to.equal(false);
  });

  it('answers VERSION', async () => {
    const r = await runPlugin(bin, { PATH: binDir, CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.json).to.deep.equal({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    expect(r.stderr, 'no SEA warning on stderr').to.equal('');
  });

  it('does an ADD/DEL round trip with a real knitd', async () => {
    const c = lab.addContainer(0, 'sea');
    const env = { PATH: binDir, CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0', CNI_PATH: binDir };
    const conf = JSON.stringify(knitd.conf('1.0.0'));
    const add = await runPlugin(bin, { ...env, CNI_COMMAND: 'ADD' }, conf);
    expect(add.code, `${add.stdout} ${add.stderr}`).to.equal(0);
    const ip = (add.json as { ips: Array<{ address: string }> }).ips[0]!.address;
    expect(ip).to.match(/^10\.244\.1\.\d+\/24$/);
    const addrs = await ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>(c.ns, ['addr', 'show', 'eth0']);
    expect(addrs[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).to.include(ip);
    expect(await hostVeths(knitd.node.ns)).to.have.length(1);

    const del = await runPlugin(bin, { ...env, CNI_COMMAND: 'DEL' }, conf);
    expect(del.code, `${del.stdout} ${del.stderr}`).to.equal(0);
    expect(await hostVeths(knitd.node.ns)).to.deep.equal([]);
    expect(knitd.ipam().allocations).to.deep.equal([]);
  });
});
