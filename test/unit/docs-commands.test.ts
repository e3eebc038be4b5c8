/**
 * The commands README.md and docs/operations.md show must work with the real
 * command-line parsers, so the docs cannot drift from the flags again:
 * every `knitctl …` line of a code block, and every inline `knitctl …` span
 * of the prose, parses with knitctl's own parser; every `knitd …` line's
 * flags are knitd's; every `bash demo/run.sh …` parses with the demo's.
 * Placeholders (`…`, `<name>`) stand for a value and are filled in.
 *
 * This checks flags and command names, not what the commands print: running
 * them needs a cluster (the e2e tests run the same commands against one).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../agent/src/cli/args';
import { readFlags } from '../../agent/src/config/sources';
import { parseDemoArgs } from '../../demo/src/args';

const REPO = join(__dirname, '..', '..', '..');
const DOCS = ['README.md', 'docs/operations.md'];

/** Splits a shell line into words (single and double quotes; no expansion). */
function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur !== '') out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (has || cur !== '') out.push(cur);
  return out;
}

/** Placeholders stand for a value: "<ip>" → "ip", "…" → "x". */
function fill(words: string[]): string[] {
  return words.map((w) => (w === '...' ? 'x' : w.replace(/^<(.+)>$/, '$1').replace(/…/g, 'x')));
}

/** `inline`: a command named in prose (arguments may be left out), not an invocation. */
interface Shown { doc: string; line: number; text: string; inline?: boolean }

/** Commands from fenced code blocks (continuations joined, comments and pipes split off) and inline code spans. */
function shownCommands(doc: string): Shown[] {
  const text = readFileSync(join(REPO, doc), 'utf8');
  const lines = text.split('\n');
  const out: Shown[] = [];
  let fence = false;
  let pending = '';
  let start = 0;
  lines.forEach((raw, i) => {
    if (/^\s*```/.test(raw)) {
      fence = !fence;
      return;
    }
    if (fence) {
      if (pending === '') start = i + 1;
      pending += raw.replace(/\\$/, ' ');
      if (raw.endsWith('\\')) return;
      const cmd = pending.replace(/\s#.*$/, '').trim();
      pending = '';
      for (const seg of cmd.split(/\s\|\s|&&|;/)) {
        const words = seg.replace(/\s[0-9]?>.*$/, '').trim(); // no redirections
        if (words !== '') out.push({ doc, line: start, text: words });
      }
      return;
    }
    for (const m of raw.matchAll(/`((?:sudo )?(?:knitctl|knitd|bash demo\/run\.sh)(?: [^`]*)?)`/g)) out.push({ doc, line: i + 1, text: m[1]!, inline: true });
  });
  return out;
}

/** The words after the program, with sudo, `ip netns exec NS` and VAR=value prefixes removed; undefined when not `prog`. */
function argsOf(text: string, prog: string): string[] | undefined {
  let w = shellWords(text);
  for (;;) {
    if (w[0] === 'sudo') w = w.slice(1);
    else if (w[0] === 'ip' && w[1] === 'netns' && w[2] === 'exec') w = w.slice(4);
    else if (w[0] !== undefined && /^[A-Z_]+=/.test(w[0])) w = w.slice(1);
    else break;
  }
  if (prog === 'demo') return w[0] === 'bash' && w[1] === 'demo/run.sh' ? fill(w.slice(2)) : undefined;
  return w[0] === prog || w[0]?.endsWith(`/${prog}`) ? fill(w.slice(1)) : undefined;
}

describe('docs: every command README.md and docs/operations.md show parses with the real CLI', () => {
  const shown = DOCS.flatMap(shownCommands);
  const knitctl = shown.flatMap((s) => (argsOf(s.text, 'knitctl') ? [{ ...s, args: argsOf(s.text, 'knitctl')! }] : []));
  const knitd = shown.flatMap((s) => (argsOf(s.text, 'knitd') ? [{ ...s, args: argsOf(s.text, 'knitd')! }] : []));
  const demo = shown.flatMap((s) => (argsOf(s.text, 'demo') ? [{ ...s, args: argsOf(s.text, 'demo')! }] : []));

  it('finds the commands (the docs show plenty)', () => {
    expect(knitctl.length, 'knitctl commands').to.be.at.least(15);
    expect(demo.length, 'demo commands').to.be.at.least(2);
    expect(new Set(knitctl.map((k) => k.args.find((a) => !a.startsWith('-')))).size, 'distinct knitctl commands').to.be.at.least(8);
  });

  it('every knitctl command and flag exists, with valid values', () => {
    const bad: string[] = [];
    for (const k of knitctl) {
      try {
        parseArgs(k.args);
      } catch (e) {
        // prose may name a command without its arguments ("`knitctl network init` on an empty key")
        if (k.inline && /takes .*, got none$/.test((e as Error).message)) continue;
        bad.push(`${k.doc}:${k.line}: knitctl ${k.args.join(' ')}: ${(e as Error).message}`);
      }
    }
    expect(bad, bad.join('\n')).to.deep.equal([]);
  });

  it('every knitd flag shown exists', () => {
    const bad: string[] = [];
    for (const k of knitd) {
      try {
        readFlags(k.args.filter((a) => a !== '--help' && a !== '--version'));
      } catch (e) {
        bad.push(`${k.doc}:${k.line}: knitd ${k.args.join(' ')}: ${(e as Error).message}`);
      }
    }
    expect(bad, bad.join('\n')).to.deep.equal([]);
  });

  it('every demo invocation parses', () => {
    const bad: string[] = [];
    for (const d of demo) {
      try {
        parseDemoArgs(d.args);
      } catch (e) {
        bad.push(`${d.doc}:${d.line}: demo/run.sh ${d.args.join(' ')}: ${(e as Error).message}`);
      }
    }
    expect(bad, bad.join('\n')).to.deep.equal([]);
  });

  it('the checker catches drift: a flag knitctl does not have fails', () => {
    expect(() => parseArgs(fill(shellWords('knitctl subnets --from-etcd …')))).to.throw(/unknown flag --from-etcd/);
  });
});
