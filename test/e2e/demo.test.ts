/**
 * knit's main job, end to end: the README's demo command, run as CI runs it
 * (with --nodes 2), brings up etcd, knitd nodes and containers, prints an
 * all-pass connectivity matrix, and leaves nothing behind: no namespace of
 * the demo, no process it started, no state directory.
 *
 * The demo gets this run's lab prefix and a directory in the lab run dir
 * (KNIT_DEMO_PREFIX, KNIT_DEMO_DIR), so it never collides with a demo a
 * user keeps running on the same machine, and a crashed run's namespaces
 * are swept like any lab's.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_PREFIX } from '../lab/netns';
import { REPO_ROOT } from '../lab/knitd';
import { ensureRunDir } from '../lab/run-dir';

/** The demo command line from the README's code block (without sudo). */
function readmeDemoCommand(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n').filter((l) => /^sudo bash demo\/run\.sh\s*$/.test(l));
  expect(lines, 'README has exactly one bare demo command line').to.have.length(1);
  return lines[0]!.replace(/^sudo /, '').trim().split(/\s+/);
}

interface Recorded { pid: number; start: string }

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** PIDs of live processes whose command line mentions `text` (for the leak check only; nothing is killed by it). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) pids.push(Number(e));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

describe('demo: the README command brings up a 2-node cluster, all pairs pass, nothing left', function () {
  this.timeout(240_000);
  const prefix = `${RUN_PREFIX}-d`;
  const dir = join(ensureRunDir(), 'demo');
  let output = '';
  let code: number | null = null;
  const seen = new Map<number, Recorded>();
  const seenNamespaces = new Set<string>();

  before(async () => {
    const [cmd, ...args] = readmeDemoCommand();
    const child = spawn(cmd!, [...args, '--nodes', '2'], {
      cwd: REPO_ROOT, env: { ...process.env, KNIT_DEMO_PREFIX: prefix, KNIT_DEMO_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { output += b.toString(); });
    // Record what the demo starts while it runs, from its own state file.
    const poll = setInterval(() => {
      try {
        const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { namespaces: string[]; processes: Recorded[] };
        for (const p of state.processes) seen.set(p.pid, { pid: p.pid, start: p.start });
        for (const n of state.namespaces) seenNamespaces.add(n);
      } catch {
        // not written yet, mid-rename, or already removed
      }
    }, 100);
    code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearInterval(poll);
  });

  it('exits 0 and prints an all-pass connectivity matrix for 4 containers', () => {
    expect(code, output).to.equal(0);
    const summary = /connectivity: (\d+)\/(\d+) pairs (.*)/.exec(output);
    expect(summary, output).to.not.equal(null);
    expect(summary![1], output).to.equal('12');
    expect(summary![2], output).to.equal('12');
    expect(summary![3], output).to.equal('pass');
    const header = output.split('\n').find((l) => l.startsWith('FROM \\ TO'));
    expect(header, output).to.match(/n1c1\s+n1c2\s+n2c1\s+n2c2/);
    const rows = output.split('\n').filter((l) => /^n\dc\d\s/.test(l));
    expect(rows, output).to.have.length(4);
    for (const row of rows) {
      const cells = row.trim().split(/\s+/).slice(1);
      expect(cells.filter((c) => c === '-'), row).to.have.length(1);
      for (const c of cells.filter((x) => x !== '-')) expect(c, row).to.match(/^\d+\.\d{3}ms$/);
    }
  });

  it('prints each node subnet and backend, each container IP, and knitctl status', () => {
    for (const n of [1, 2]) expect(output).to.match(new RegExp(`node${n}\\s+${prefix}n${n}\\s+192\\.168\\.77\\.1${n}\\s+10\\.244\\.\\d+\\.0/24\\s+vxlan`));
    expect(output.match(new RegExp(`^${prefix}n\\dc\\d\\s+node\\d\\s+10\\.244\\.\\d+\\.\\d+$`, 'gm')), output).to.have.length(4);
    expect(output).to.match(/knitctl status --socket/);
    expect(output).to.match(/Subnet:\s+10\.244\.\d+\.0\/24/);
  });

  it('leaves no namespace, process or state directory behind', () => {
    expect(seen.size, 'processes recorded while the demo ran (etcd + 2 knitd)').to.equal(3);
    expect(seenNamespaces.size, 'namespaces recorded while it ran (underlay, 2 nodes, 4 containers)').to.equal(7);
    const alive = [...seen.values()].filter((p) => startTime(p.pid) === p.start).map((p) => p.pid);
    expect(alive, 'demo processes still running').to.deep.equal([]);
    expect(processesMentioning(dir), `processes mentioning ${dir}`).to.deep.equal([]);
    const netns = existsSync('/var/run/netns') ? readdirSync('/var/run/netns') : [];
    expect(netns.filter((n) => n.startsWith(prefix))).to.deep.equal([]);
    expect(existsSync(dir), `${dir} removed`).to.equal(false);
  });
});
