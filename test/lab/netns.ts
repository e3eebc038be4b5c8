/**
 * The smallest building block of the lab: named network namespaces with a
 * per-run unique prefix, and running commands inside them. Tests (not knit's
 * code) may shell out to `ip`; knit itself never does.
 *
 * Every namespace made here is recorded, and `removeAllNetns()` (called by the
 * mocha root hooks and on process exit) deletes whatever is still recorded, so
 * a failing test leaves nothing behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Prefix of every lab object of this run: "t-" + 4 hex chars (netns and link
 * names stay ≤ 15 chars). KNIT_LAB_RUN_PREFIX replaces it (1–6 chars of
 * a-z, 0-9 and "-", e.g. "k16-a1") when several sessions share a machine and
 * each must recognise its own objects; such names are not "t-<hhhh>-", so
 * the sweep of crashed runs never touches them: their run removes them.
 */
export const RUN_PREFIX = runPrefix(process.env.KNIT_LAB_RUN_PREFIX);

function runPrefix(chosen: string | undefined): string {
  if (chosen === undefined || chosen === '') return `t-${(process.pid & 0xffff).toString(16).padStart(4, '0')}`;
  if (!/^[a-z0-9-]{1,6}$/.test(chosen)) throw new Error(`KNIT_LAB_RUN_PREFIX=${chosen}: want 1-6 chars of a-z, 0-9, "-"`);
  return chosen;
}
/** The prefix every lab object of every run carries, for the sweep of crashed runs. */
export const LAB_PREFIX = 't-';

const made = new Set<string>();
let counter = 0;

/** A fresh unique name with the run prefix, e.g. "t-1a2b-n3". */
export function uniqueName(tag: string): string {
  counter += 1;
  const name = `${RUN_PREFIX}-${tag}${counter}`;
  if (name.length > 15) throw new Error(`lab name ${name} longer than 15 chars; use a shorter tag than ${tag}`);
  return name;
}

/** Path of a named namespace's bind mount, as CNI_NETNS wants it. */
export function netnsPath(name: string): string {
  return `/var/run/netns/${name}`;
}

/** ip netns add NAME; lo up. Returns the namespace name. */
export function addNetns(tag: string): string {
  return addNetnsNamed(uniqueName(tag));
}

/**
 * ip netns add NAME for a name the caller built (the lab uses per-lab
 * prefixes); it must carry this run's prefix and fit 15 chars. lo up.
 */
export function addNetnsNamed(name: string): string {
  if (!name.startsWith(`${RUN_PREFIX}-`) || name.length > 15) {
    throw new Error(`netns name ${name} must start with ${RUN_PREFIX}- and be at most 15 chars`);
  }
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`ip netns add ${name}: ${String((err as { stderr?: unknown }).stderr ?? '').trim()}`, { cause: err });
  }
  made.add(name);
  nsRun(name, 'ip', ['link', 'set', 'lo', 'up']);
  return name;
}

/**
 * Many namespaces in one `ip -batch` (one process instead of two per name):
 * for tests that need hundreds. Same naming rules as addNetnsNamed; lo stays
 * down. Recorded like the others, so the root hooks remove them.
 */
export function addNetnsBatch(names: string[]): string[] {
  for (const name of names) {
    if (!name.startsWith(`${RUN_PREFIX}-`) || name.length > 15) {
      throw new Error(`netns name ${name} must start with ${RUN_PREFIX}- and be at most 15 chars`);
    }
  }
  // Record first: a batch that fails half-way still gets cleaned up.
  for (const name of names) made.add(name);
  run('ip', ['-batch', '-'], names.map((n) => `netns add ${n}`).join('\n') + '\n');
  return names;
}

/** Delete many namespaces in one `ip -batch`, tolerating "already gone". */
export function delNetnsBatch(names: string[]): void {
  const present = names.filter((n) => existsSync(netnsPath(n)));
  if (present.length > 0) spawnSync('ip', ['-force', '-batch', '-'], { input: present.map((n) => `netns del ${n}`).join('\n') + '\n', stdio: ['pipe', 'pipe', 'pipe'] });
  for (const n of names) made.delete(n);
}

/** ip netns del NAME, tolerating "already gone"; forgets it either way. */
export function delNetns(name: string): void {
  if (existsSync(netnsPath(name))) spawnSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
  made.delete(name);
}

/** Namespaces this process made and has not deleted yet. */
export function madeNetns(): string[] {
  return [...made];
}

/** Delete every namespace this process made and has not deleted (synchronous: safe in an exit handler). */
export function removeAllNetns(): void {
  for (const name of [...made]) delNetns(name);
}

/** Run a command in the root namespace; throws with stderr on failure. */
export function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], input, encoding: 'utf8' });
  } catch (err) {
    const e = err as { stderr?: string; status?: number };
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${e.status}): ${e.stderr ?? ''}`.trim(), { cause: err });
  }
}

/** Run a command inside namespace NAME (ip netns exec); throws with stderr on failure. */
export function nsRun(ns: string, cmd: string, args: string[], input?: string): string {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

/** `ip -j -d ...` inside a namespace, parsed. */
export function nsIpJson<T = unknown>(ns: string, args: string[]): T {
  const out = nsRun(ns, 'ip', ['-j', '-d', ...args]);
  return JSON.parse(out || '[]') as T;
}
