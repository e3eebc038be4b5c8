/**
 * knitd's network-policy loop: watches `<prefix>/policies/` and
 * `<prefix>/policy-endpoints/` in etcd, compiles every network's policies
 * against the endpoint records, and programs `inet knit_policy` in one nft
 * transaction (docs/policy.md). Level-triggered: each run reads the whole
 * desired state, so a burst of etcd events costs one run.
 *
 * The table is never deleted on stop: a restarting knitd leaves the last
 * programmed policy in the kernel and its first run swaps in the current one
 * atomically, so a restart opens no window of unpoliced access.
 */
import type { Etcd3, Watcher } from 'etcd3';
import { Backoff, describeError, realClock, SerialRunner, Timer } from '../base';
import { policyRuleset, renderPolicyRemove, renderPolicyRuleset, renderPolicyUpdate, runCommand, type CommandRunner, type PolicyRuleset } from '../dataplane/nft';
import type { Logger } from '../log/logger';
import { CompileMemo, compileNetwork, parseEndpointRecord, parsePolicyRecord, RecordCache, type Policy, type PolicyEndpoint } from '../policy';

export interface PolicyEnforcerOptions {
  client: Etcd3;
  /** etcd key prefix, e.g. /knit/v1 */
  prefix: string;
  logger: Logger;
  /** nft argv (default ["nft"]); tests run it inside a namespace */
  nftCommand?: string[];
  run?: CommandRunner;
  /** Hears each programmed table (for metrics and tests). */
  onApplied?: (info: { policies: number; endpoints: number; changed: boolean }) => void;
  /**
   * The IPv4 addresses policy isolates, in either direction, whenever that
   * set changes: knit's pod-to-pod notrack must spare them (their replies
   * pass by `ct state established`). Called with the union of the old and
   * new sets before a table is swapped in and with the new set after it, so
   * no isolated endpoint's packet is ever untracked.
   */
  onIsolated?: (addresses: string[]) => Promise<void>;
  /**
   * Called before a policy table is swapped in: makes bridged traffic (two
   * containers on one node's bridge) go through the forward hook, where the
   * table's chain sees it (net.bridge.bridge-nf-call-ip{,6}tables). Returns
   * why it cannot (br_netfilter not loaded), or undefined; the table is
   * programmed either way, since it still holds traffic between nodes.
   */
  ensureBridgedTraffic?: () => string | undefined;
  /** Hears the valid policies after each run that programmed (or kept) the table: the API's Watch events. */
  onPolicies?: (policies: readonly Policy[]) => void;
}

export class PolicyEnforcer {
  private readonly policies = new Map<string, string>();
  private readonly endpoints = new Map<string, string>();
  private readonly watchers: Watcher[] = [];
  private readonly runner: SerialRunner;
  /** What the kernel holds as far as knit knows: a table, 'none', or undefined (not known: at start, after a failed apply). */
  private programmed: PolicyRuleset | 'none' | undefined;
  private isolated: string[] = [];
  private enforced: readonly Policy[] = [];
  /** what ensureBridgedTraffic said last ('' = fine), logged on change */
  private bridged: string | undefined;
  private readonly log: Logger;
  private readonly backoff = new Backoff({ minMs: 200, maxMs: 10_000, jitter: 0.2 });
  private readonly retry: Timer;
  private readonly parsedPolicies: RecordCache<Policy>;
  private readonly parsedEndpoints: RecordCache<PolicyEndpoint>;
  private readonly memo = new CompileMemo();

  constructor(private readonly o: PolicyEnforcerOptions) {
    this.log = o.logger.child({ module: 'policy' });
    this.retry = new Timer(realClock, () => this.runner.request());
    const skip = (what: string) => (key: string, error: string) => this.log.warn(`skipping invalid ${what} record`, { key, error });
    this.parsedPolicies = new RecordCache(parsePolicyRecord, skip('policy'));
    this.parsedEndpoints = new RecordCache(parseEndpointRecord, skip('endpoint'));
    this.runner = new SerialRunner(() => this.program(), {
      deferStart: true,
      onError: (err) => {
        // Retried with back-off, not only at the next etcd event.
        const ms = this.backoff.next();
        this.log.error('programming network policy failed; retrying', { error: describeError(err), retryInMs: ms });
        this.retry.arm(ms);
      },
    });
  }

  /** Lists, watches, programs once; resolves after the first table is in the kernel. */
  async start(): Promise<void> {
    for (const [dir, map] of [['policies', this.policies], ['policy-endpoints', this.endpoints]] as const) {
      const p = `${this.o.prefix}/${dir}/`;
      const w = await this.o.client.watch().prefix(p).create();
      w.on('put', (kv) => { map.set(kv.key.toString('utf8').slice(p.length), kv.value.toString('utf8')); this.runner.request(); });
      w.on('delete', (kv) => { map.delete(kv.key.toString('utf8').slice(p.length)); this.runner.request(); });
      w.on('connected', () => void this.relist(p, map));
      w.on('error', (err) => this.log.warn('policy watch error', { prefix: p, error: describeError(err) }));
      this.watchers.push(w);
      await this.relist(p, map);
    }
    this.runner.request();
    await this.runner.idle();
  }

  private async relist(p: string, map: Map<string, string>): Promise<void> {
    try {
      const all = await this.o.client.getAll().prefix(p).strings();
      map.clear();
      for (const [k, v] of Object.entries(all)) map.set(k.slice(p.length), v);
      this.runner.request();
    } catch (err) {
      this.log.warn('policy re-list failed; the watch keeps going', { prefix: p, error: describeError(err) });
    }
  }

  private async program(): Promise<void> {
    const started = performance.now();
    const policies: Policy[] = this.parsedPolicies.valid(this.policies);
    const endpoints: PolicyEndpoint[] = this.parsedEndpoints.valid(this.endpoints);
    const networks = [...new Set(policies.map((p) => p.network))].sort();
    const compiled = networks.map((n) => compileNetwork(n, policies, endpoints, this.memo));
    // No policy: no table at all, so forwarding pays for no extra hook.
    const ruleset = networks.length === 0 ? undefined : policyRuleset(compiled);
    const isolated = [...new Set(compiled.flatMap((c) => [...c.isolated.ingress, ...c.isolated.egress].map((i) => i.address)))]
      .filter((a) => !a.includes(':')).sort();
    const isolatedChanged = isolated.join() !== this.isolated.join();
    // Grow the tracked set before the table that isolates more.
    if (isolatedChanged) await this.o.onIsolated?.([...new Set([...this.isolated, ...isolated])].sort());
    if (networks.length > 0 && this.o.ensureBridgedTraffic) {
      const problem = this.o.ensureBridgedTraffic() ?? '';
      if (problem !== this.bridged) {
        if (problem) this.log.error('network policy does not hold between containers on one node', { reason: problem });
        else if (this.bridged !== undefined) this.log.info('network policy holds between containers on one node again');
        this.bridged = problem;
      }
    }
    const compiledMs = performance.now() - started;
    const written = await this.apply(ruleset);
    const changed = written !== undefined;
    if (written !== undefined) {
      this.log.info('network policy programmed', {
        policies: policies.length, endpoints: endpoints.length, write: written,
        compileMs: Math.round(compiledMs * 10) / 10, writeMs: Math.round((performance.now() - started - compiledMs) * 10) / 10,
      });
    }
    // Shrink it once the table that isolates less is in.
    if (isolatedChanged) {
      await this.o.onIsolated?.(isolated);
      this.isolated = isolated;
    }
    this.backoff.reset();
    this.enforced = policies;
    this.o.onApplied?.({ policies: policies.length, endpoints: endpoints.length, changed });
    this.o.onPolicies?.(policies);
  }

  /**
   * Brings the kernel's table to `ruleset` (undefined: no table): the whole
   * table when its state is not known, else only the difference. A refused
   * difference (someone changed the table by hand) is followed at once by
   * the whole table, which is atomic too. Returns what it wrote: 'table',
   * 'difference' or 'removal', or undefined when nothing changed.
   */
  private async apply(ruleset: PolicyRuleset | undefined): Promise<'table' | 'difference' | 'removal' | undefined> {
    const prev = this.programmed;
    let written: 'table' | 'difference' | 'removal';
    let text: string;
    if (ruleset === undefined) {
      written = 'removal';
      text = prev === 'none' ? '' : renderPolicyRemove();
    } else if (prev === undefined || prev === 'none') {
      written = 'table';
      text = renderPolicyRuleset(ruleset);
    } else {
      written = 'difference';
      text = renderPolicyUpdate(prev, ruleset);
    }
    if (text === '') return undefined;
    const nft = (script: string) => (this.o.run ?? runCommand)([...(this.o.nftCommand ?? ['nft']), '-f', '-'], script);
    this.programmed = undefined;
    let res = await nft(text);
    if (res.code !== 0 && written === 'difference' && ruleset !== undefined) {
      this.log.warn('nft refused the policy table update; replacing the whole table', { error: res.stderr.trim() });
      res = await nft(renderPolicyRuleset(ruleset));
      written = 'table';
    }
    if (res.code !== 0) throw new Error(`apply nft table inet knit_policy: exit ${res.code}: ${res.stderr.trim()}`);
    this.programmed = ruleset ?? 'none';
    return written;
  }

  /** The valid policies of the last successful run (what the table enforces). */
  enforcedPolicies(): readonly Policy[] {
    return this.enforced;
  }

  /** Stops watching; the programmed table stays (see the module comment). */
  async stop(): Promise<void> {
    this.retry.cancel();
    await this.runner.stop();
    await Promise.all(this.watchers.splice(0).map((w) => w.cancel().catch(() => undefined)));
  }
}
