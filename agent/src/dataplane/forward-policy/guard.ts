/**
 * Keeps cluster traffic flowing through a node whose firewall drops forwarded
 * packets by default, and says so where it cannot.
 *
 * Docker sets the iptables filter FORWARD policy to DROP (iptables-nft puts
 * that in nft's `ip filter FORWARD`); every packet a container sends to
 * another node, or back from one, is forwarded and would die there while
 * knit reported healthy. knit does what flannel and Docker do for their own
 * traffic: when the FORWARD policy is DROP it appends (once) two ACCEPT
 * rules for the cluster CIDR, as source and as destination, with the
 * comment "knit: cluster traffic" (equivalent to `iptables -A FORWARD -s
 * 10.244.0.0/16 -m comment --comment "knit: cluster traffic" -j ACCEPT`).
 * Appended, not inserted, so the DOCKER-USER chain keeps its say.
 *
 * Another table's nft base chain with policy drop (e.g. `inet filter
 * forward` of the distribution's firewall) cannot be overridden from knit's
 * own table (an accept in one base chain does not stop a drop in another),
 * and knit does not edit tables it does not own: it reports them instead,
 * in readiness and with an error log naming table and chain.
 *
 * Checked at start and every `intervalMs` (a firewall started after knitd
 * is found within one interval); knit's rules are left in place on stop.
 * When iptables is the nf_tables variant (asked once, `iptables -V`), its
 * FORWARD policy is in nft's chain list, which the check reads in-process
 * anyway: iptables is started only when that chain drops, not every
 * interval (a process per interval per family on every node otherwise).
 */
import type { Logger } from '../../log/logger';
import { Ticker, realClock, type Clock, errorMessage } from '../../base';
import { runCommand, type CommandRunner } from '../nft';
import { blockingForwardChains, chainName, forwardDropChains, type BlockingChain } from './scan';

/** Comment on knit's iptables rules: how knit (and an operator) recognises them. */
export const FORWARD_RULE_COMMENT = 'knit: cluster traffic';

export interface ForwardGuardOptions {
  /** The CIDRs whose forwarded traffic must pass: the cluster CIDR(s), or the node subnet in single-node mode. */
  cidrs: string[];
  logger: Logger;
  /** How often to look again. */
  intervalMs: number;
  run?: CommandRunner;
  clock?: Clock;
}

export class ForwardGuard {
  private blocking: BlockingChain[] = [];
  private readonly run: CommandRunner;
  private readonly ticker: Ticker;
  private readonly warned = new Set<string>();
  private checking: Promise<void> | undefined;
  /** per binary: true when it is iptables-nft (its chains are nft's), false for legacy; absent until known */
  private readonly nftBacked = new Map<string, boolean>();

  constructor(private readonly opts: ForwardGuardOptions) {
    this.run = opts.run ?? runCommand;
    this.ticker = new Ticker(opts.clock ?? realClock, opts.intervalMs, () => void this.check());
  }

  /** First check now, then every interval. */
  async start(): Promise<void> {
    await this.check();
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  /** Readiness reasons: one per chain that drops cluster traffic and that knit cannot fix. */
  problems(): string[] {
    return this.blocking.map((c) =>
      `forward chain "${chainName(c)}" has policy drop and no accept rule for ${c.cidrs.join(', ')}: cluster traffic through this node is dropped there (knit does not edit that table; accept the cluster CIDR as source and destination in it)`);
  }

  /** One check: add knit's iptables accepts where FORWARD drops, then look for chains that still drop. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => { this.checking = undefined; });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    // The chains, then the rules of the few that drop: never the whole ruleset with every set element in it.
    const chains = await this.listJson(['list', 'chains']);
    for (const cidr of this.opts.cidrs) {
      const bin = cidr.includes(':') ? 'ip6tables' : 'iptables';
      // iptables-nft's FORWARD is nft's `ip filter FORWARD`: only a drop policy there needs iptables itself
      if (chains !== undefined && (await this.isNftBacked(bin)) && !iptablesForwardDrops(chains, bin)) continue;
      await this.ensureIptables(bin, cidr);
    }
    if (chains === undefined) return;
    const items = [...chains];
    for (const c of forwardDropChains({ nftables: chains })) {
      const rules = await this.listJson(['list', 'chain', c.family, c.table, c.name]);
      if (rules === undefined) return;
      items.push(...rules.filter((it) => typeof it === 'object' && it !== null && 'rule' in it));
    }
    const found = blockingForwardChains({ nftables: items }, this.opts.cidrs);
    const key = (c: BlockingChain) => `${chainName(c)}|${c.cidrs.join(',')}`;
    const before = new Set(this.blocking.map(key));
    const now = new Set(found.map(key));
    for (const c of found) {
      if (before.has(key(c))) continue;
      this.opts.logger.error('a forward chain drops cluster traffic and knit cannot override it', {
        table: `${c.family} ${c.table}`, chain: c.chain, policy: 'drop', cidrs: c.cidrs,
      });
    }
    for (const c of this.blocking) {
      if (!now.has(key(c))) this.opts.logger.info('forward chain no longer drops cluster traffic', { table: `${c.family} ${c.table}`, chain: c.chain });
    }
    this.blocking = found;
  }

  /** `nft -j <words>` parsed to its items; undefined (and a warning, once) when nft fails or prints no JSON. */
  private async listJson(words: string[]): Promise<unknown[] | undefined> {
    const res = await this.run(['nft', '-j', ...words]);
    if (res.code !== 0) {
      this.warnOnce('nft', 'cannot list nft chains to check the forward policy', { command: `nft -j ${words.join(' ')}`, error: res.stderr.trim() });
      return undefined;
    }
    try {
      const parsed: unknown = JSON.parse(res.stdout);
      const items = typeof parsed === 'object' && parsed !== null && 'nftables' in parsed ? (parsed as { nftables: unknown }).nftables : undefined;
      if (!Array.isArray(items)) throw new Error('no "nftables" list');
      return items as unknown[];
    } catch (err) {
      this.warnOnce('nft-json', 'cannot read nft\'s JSON to check the forward policy', { command: `nft -j ${words.join(' ')}`, error: errorMessage(err) });
      return undefined;
    }
  }

  /** Whether `bin` is the nf_tables variant; asked once (a failure to run it is asked again next time). */
  private async isNftBacked(bin: string): Promise<boolean> {
    const known = this.nftBacked.get(bin);
    if (known !== undefined) return known;
    const v = await this.run([bin, '-V']);
    if (v.code !== 0) return false;
    const nft = /\(nf_tables\)/.test(v.stdout);
    this.nftBacked.set(bin, nft);
    return nft;
  }

  /** iptables (or ip6tables) FORWARD policy DROP → append knit's two ACCEPT rules unless present. */
  private async ensureIptables(bin: string, cidr: string): Promise<void> {
    const list = await this.run([bin, '-w', '5', '-S', 'FORWARD']);
    if (list.code === -1) return; // no iptables on this node: nothing of Docker's kind to open
    if (list.code !== 0) {
      this.warnOnce(bin, `cannot read the ${bin} FORWARD chain`, { error: list.stderr.trim() });
      return;
    }
    if (!/^-P FORWARD DROP$/m.test(list.stdout)) return;
    for (const dir of ['-s', '-d']) {
      const spec = ['FORWARD', dir, cidr, '-m', 'comment', '--comment', FORWARD_RULE_COMMENT, '-j', 'ACCEPT'];
      if ((await this.run([bin, '-w', '5', '-C', ...spec])).code === 0) continue;
      const add = await this.run([bin, '-w', '5', '-A', ...spec]);
      if (add.code === 0) {
        this.opts.logger.info(`${bin} FORWARD policy is DROP: accepted cluster traffic`, { rule: `-A ${spec.join(' ')}` });
      } else {
        this.warnOnce(`${bin}${dir}`, `cannot add knit's ACCEPT rule to the ${bin} FORWARD chain`, { rule: `-A ${spec.join(' ')}`, error: add.stderr.trim() });
      }
    }
  }

  private warnOnce(id: string, message: string, fields: Record<string, unknown>): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.opts.logger.warn(message, fields);
  }
}

/** Whether nft's chain list holds iptables-nft's FORWARD chain of `bin`'s family with policy drop. */
function iptablesForwardDrops(chains: readonly unknown[], bin: string): boolean {
  const family = bin === 'ip6tables' ? 'ip6' : 'ip';
  return forwardDropChains({ nftables: chains }).some((c) => c.family === family && c.table === 'filter' && c.name === 'FORWARD');
}
