/**
 * `knitctl completion bash|zsh`, run in the real shells: bash calls the
 * completion function as readline would (COMP_WORDS/COMP_CWORD → COMPREPLY);
 * zsh loads the script after compinit, registers it for knitctl, and its
 * candidate function answers the same as bash's. Every command of the
 * table must complete, so a new command cannot be forgotten.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completionScript } from '../../agent/src/cli/completion';
import { COMMANDS, commandGroups } from '../../agent/src/cli/commands';
import { EXIT_OK, EXIT_USAGE, runKnitctl } from '../../agent/src/cli/main';

describe('knitctl completion (real bash and zsh)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'knit-completion-'));
    writeFileSync(join(dir, 'knitctl.bash'), completionScript('bash'));
    writeFileSync(join(dir, '_knitctl'), completionScript('zsh'));
    writeFileSync(join(dir, 'net.json'), '{}');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** COMPREPLY for the words typed so far (the last one is being completed). */
  const bash = (words: string[]): string[] => {
    const arr = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c',
      `source knitctl.bash; COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _knitctl; printf '%s\\n' "\${COMPREPLY[@]}"`], { cwd: dir, encoding: 'utf8' });
    return out.split('\n').filter((l) => l !== '').sort();
  };

  /** The subcommands of `group` in the table, in table order. */
  const subsOf = (group: string): string[] => COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.split(' ')[1]!);
  const cases: Array<{ words: string[]; want: string[] }> = [
    { words: ['knitctl', 'sta'], want: ['status'] },
    { words: ['knitctl', 'pe'], want: ['peers'] },
    { words: ['knitctl', 'network', ''], want: subsOf('network').sort() },
    { words: ['knitctl', 'network', 'init', ''], want: ['_knitctl', 'knitctl.bash', 'net.json'] },
    { words: ['knitctl', 'status', '-o', ''], want: ['json', 'table'] },
    { words: ['knitctl', 'status', '--ad'], want: ['--address'] },
    { words: ['knitctl', 'watch', '--c'], want: ['--count'] },
    { words: ['knitctl', 'network', 'show', '--etcd-e'], want: ['--etcd-endpoints'] },
    { words: ['knitctl', 'bgp', ''], want: ['routes', 'sessions'] },
    { words: ['knitctl', 'bgp', 'routes', ''], want: [] },
    { words: ['knitctl', 'completion', ''], want: ['bash', 'zsh'] },
    { words: ['knitctl', '--socket', '/run/x.sock', 'pe'], want: ['peers'] },
    // bash splits --flag=value at "=" (COMP_WORDBREAKS)
    { words: ['knitctl', '--socket', '=', '/run/x.sock', 'sub'], want: ['subnets'] },
    { words: ['knitctl', 'help', 'w'], want: ['watch'] },
  ];
  for (const tc of cases) {
    it(`bash: ${JSON.stringify(tc.words.slice(1).join(' '))} -> ${tc.want.join(' ') || '(nothing)'}`, () => {
      expect(bash(tc.words)).to.deep.equal(tc.want);
    });
  }

  it('bash: every command of the table completes from nothing', () => {
    const all = bash(['knitctl', '']);
    const groups = commandGroups();
    expect(groups.length, 'the table has commands').to.be.at.least(8);
    expect(all).to.deep.equal([...groups, 'help'].sort());
    for (const c of COMMANDS.filter((x) => x.name.includes(' '))) {
      const [g, sub] = c.name.split(' ');
      expect(bash(['knitctl', g!, ''])).to.include(sub);
    }
  });

  it('zsh: the script registers _knitctl after compinit and its candidates match bash\'s', () => {
    const out = execFileSync('zsh', ['-f', '-c',
      'autoload -U compinit && compinit -u -D; source ./_knitctl; print -r -- "comp=$_comps[knitctl]"; ' +
      '__knitctl_candidates 1 knitctl sta; __knitctl_candidates 2 knitctl network ""; __knitctl_candidates 2 knitctl -o ""'], { cwd: dir, encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines[0]).to.equal('comp=_knitctl');
    expect(lines[1]!.split(' ')).to.include('status');
    expect(lines[2]).to.equal(subsOf('network').join(' '));
    expect(subsOf('network')).to.include.members(['show', 'init']);
    expect(lines[3]).to.equal('table json');
  });

  it('knitctl completion prints the script; an unknown shell is a usage error', async () => {
    let out = '';
    let err = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {} };
    expect(await runKnitctl(['completion', 'bash'], io)).to.equal(EXIT_OK);
    expect(out).to.equal(completionScript('bash'));
    expect(await runKnitctl(['completion', 'fish'], io)).to.equal(EXIT_USAGE);
    expect(err).to.include('completion supports bash and zsh, not "fish"');
  });
});
