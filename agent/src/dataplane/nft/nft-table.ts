/**
 * NftTable: the one owner of knit's nftables table in one network namespace.
 *
 * Callers state the whole desired state; `apply` renders it and pipes it into
 * `nft -f -` as one atomic transaction. Operations are serialized: while one
 * runs, further calls coalesce into a single pending operation carrying the
 * latest desired state, whose callers all settle together (so a burst of CNI
 * ADDs costs two nft runs, not one per container). An apply whose text equals
 * the last one applied is skipped unless forced (a periodic resync should
 * force, to repair a table someone deleted by hand).
 */
import type { Logger } from '../../log/logger';
import { changedUdpMappings, flushUdpConntrack } from './conntrack';
import { DEFAULT_TABLE, hasIp6Table, renderNormalized, renderRemove, renderRemoveIp6, type TableId } from './render';
import { procRouteLocalnet, type RouteLocalnetAccess } from './route-localnet';
import { type CommandRunner } from './run-command';
import { runCommand } from './libnftables';
import type { NftDesiredState, NormalizedMapping, NormalizedState } from './types';
import { needsRouteLocalnet, normalizeDesired } from './validate';

export interface NftTableOptions {
  /** Table family; only "ip" for now. */
  family?: 'ip';
  /** Table name, default "knit". */
  name?: string;
  /**
   * The nft program and any prefix, default ["nft"] (knitd runs inside its node's
   * namespace). Tests pass e.g. ["ip", "netns", "exec", ns, "nft"].
   */
  nftCommand?: string[];
  /** The conntrack program and prefix, default ["conntrack"]; null disables the UDP flush. */
  conntrackCommand?: string[] | null;
  /** route_localnet accessor, default /proc/sys of this process's namespace. */
  routeLocalnet?: RouteLocalnetAccess;
  /** Command runner, default spawn; injected by unit tests. */
  run?: CommandRunner;
  logger: Logger;
}

/** Options of one apply. */
export interface ApplyOptions {
  /** Run nft even when the rendered text equals the last applied one. */
  force?: boolean;
}

/** One object of `nft -j list` output, e.g. `{ rule: {...} }`, `{ map: {...} }`. */
export type NftJsonObject = Record<string, Record<string, unknown>>;

type Operation = { kind: 'apply'; state: NormalizedState; force: boolean } | { kind: 'remove' };

interface Pending {
  op: Operation;
  waiters: Array<{ resolve: () => void; reject: (err: Error) => void }>;
}

export class NftTable {
  private readonly table: TableId;
  /** The last apply put the IPv6 NAT table in (ipv6Masquerade). */
  private ip6Applied = false;
  private readonly nft: string[];
  private readonly conntrack: string[] | null;
  private readonly localnet: RouteLocalnetAccess;
  private readonly run: CommandRunner;
  private readonly log: Logger;

  private running = false;
  private pending: Pending | null = null;
  /** Text of the last successful apply; undefined after remove or before the first apply. */
  private lastText: string | undefined;
  private lastMappings: NormalizedMapping[] = [];
  /** Bridge on which this instance turned route_localnet on (to turn it off again later). */
  private localnetOn: string | undefined;

  constructor(opts: NftTableOptions) {
    this.table = { family: opts.family ?? DEFAULT_TABLE.family, name: opts.name ?? DEFAULT_TABLE.name };
    this.nft = opts.nftCommand ?? ['nft'];
    this.conntrack = opts.conntrackCommand === undefined ? ['conntrack'] : opts.conntrackCommand;
    this.localnet = opts.routeLocalnet ?? procRouteLocalnet();
    this.run = opts.run ?? runCommand;
    this.log = opts.logger.child({ module: 'nft', table: `${this.table.family} ${this.table.name}` });
    // Fail at construction, not at the first apply, for a bad table name.
    renderRemove(this.table);
    renderNormalized({ portMappings: [], portMappings6: [], networks: [], extraNat: [] }, this.table);
  }

  /**
   * Make knit's table exactly what `desired` describes. Rejects at once (without
   * queuing) on an invalid desired state; otherwise settles when this or a later
   * coalesced state is in the kernel. Errors name nft's stderr.
   */
  apply(desired: NftDesiredState, opts: ApplyOptions = {}): Promise<void> {
    let state: NormalizedState;
    try {
      state = normalizeDesired(desired);
    } catch (err) {
      return Promise.reject(err);
    }
    const force = (opts.force ?? false) || (this.pending?.op.kind === 'apply' && this.pending.op.force);
    return this.enqueue({ kind: 'apply', state, force });
  }

  /** Delete knit's table (and undo route_localnet if this instance set it). Tolerates absence. */
  remove(): Promise<void> {
    return this.enqueue({ kind: 'remove' });
  }

  /** Read back knit's table (`nft -j list table ip knit`); null when it does not exist. */
  async list(): Promise<NftJsonObject[] | null> {
    const res = await this.run([...this.nft, '-j', 'list', 'table', this.table.family, this.table.name]);
    if (res.code !== 0) {
      if (/No such file or directory/.test(res.stderr)) return null;
      throw new Error(`list nft table ${this.table.family} ${this.table.name}: ${this.describe(res.code, res.stderr)}`);
    }
    try {
      const parsed = JSON.parse(res.stdout) as { nftables?: NftJsonObject[] };
      return (parsed.nftables ?? []).filter((o) => !('metainfo' in o));
    } catch (cause) {
      throw new Error(`list nft table ${this.table.family} ${this.table.name}: unparsable JSON from nft`, { cause });
    }
  }

  private enqueue(op: Operation): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending) {
        this.pending.op = op;
        this.pending.waiters.push({ resolve, reject });
      } else {
        this.pending = { op, waiters: [{ resolve, reject }] };
      }
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending) {
        const job = this.pending;
        this.pending = null;
        try {
          if (job.op.kind === 'apply') await this.applyNow(job.op.state, job.op.force);
          else await this.removeNow();
          for (const w of job.waiters) w.resolve();
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          for (const w of job.waiters) w.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async applyNow(state: NormalizedState, force: boolean): Promise<void> {
    // The 127.0.0.0/8 guard is in the table whenever route_localnet is on for the bridge,
    // whoever turned it on: so route_localnet goes off before the guard goes, and on only
    // after the guard is in (a loopback mapping's first packets may fail meanwhile; a
    // neighbour never reaches the node's 127.0.0.1 services).
    const wantLocalnet = needsRouteLocalnet(state) ? state.bridge : undefined;
    if (this.localnetOn !== undefined && this.localnetOn !== wantLocalnet) await this.disableLocalnet();
    const guard = wantLocalnet !== undefined || (state.bridge !== undefined && await this.localnetMayBeOn(state.bridge));
    const text = renderNormalized(state, this.table, { localnetGuard: guard });
    if (!force && text === this.lastText) {
      this.log.debug('nft table unchanged, skipping apply', { mappings: state.portMappings.length });
      return;
    }

    // The IPv6 NAT table goes away in the same transaction when it held something and no longer does.
    const dropIp6 = this.ip6Applied && !hasIp6Table(state);
    const res = await this.run([...this.nft, '-f', '-'], dropIp6 ? text + renderRemoveIp6(this.table) : text);
    if (res.code !== 0) {
      throw new Error(`apply nft table ${this.table.family} ${this.table.name}: ${this.describe(res.code, res.stderr)}`);
    }
    this.ip6Applied = hasIp6Table(state);
    const before = this.lastMappings;
    this.lastText = text;
    this.lastMappings = state.portMappings;
    this.log.info('nft table applied', {
      mappings: state.portMappings.length,
      masquerade: state.masqueradeCidr ?? null,
      notrack: state.notrackCidr ?? null,
      tunnelNotrack: state.tunnelNotrack === undefined ? null : `${state.tunnelNotrack.localAddress} udp ${state.tunnelNotrack.udpPorts.join(',')}`,
      hairpin: state.nodeSubnet ?? null,
    });

    if (wantLocalnet !== undefined) await this.enableLocalnet(wantLocalnet);
    await this.flushConntrack(before, state.portMappings);
  }

  private async removeNow(): Promise<void> {
    // Off before the table (and its 127.0.0.0/8 guard) goes.
    if (this.localnetOn !== undefined) await this.disableLocalnet();
    const res = await this.run([...this.nft, '-f', '-'], renderRemove(this.table) + (this.ip6Applied ? renderRemoveIp6(this.table) : ''));
    if (res.code !== 0) {
      throw new Error(`remove nft table ${this.table.family} ${this.table.name}: ${this.describe(res.code, res.stderr)}`);
    }
    this.ip6Applied = false;
    const before = this.lastMappings;
    this.lastText = undefined;
    this.lastMappings = [];
    this.log.info('nft table removed');
    await this.flushConntrack(before, []);
  }

  private async enableLocalnet(bridge: string): Promise<void> {
    if (this.localnetOn === bridge) return;
    try {
      const current = await this.localnet.read(bridge);
      if (current === '1') return; // someone else's setting: not ours to undo later
      await this.localnet.write(bridge, '1');
      this.localnetOn = bridge;
      this.log.info('route_localnet enabled for 127.0.0.1 port mappings', { bridge });
    } catch (cause) {
      throw new Error(`set net.ipv4.conf.${bridge}.route_localnet=1 (needed for 127.0.0.1 port mappings)`, { cause });
    }
  }

  /**
   * Whether route_localnet is in force on `bridge` (ours or anyone's); unknown counts as on.
   * The kernel ORs the device's value with `all`'s, so `all=1` set by someone else needs the
   * guard too.
   */
  private async localnetMayBeOn(bridge: string): Promise<boolean> {
    if (this.localnetOn === bridge) return true;
    try {
      for (const ifname of [bridge, 'all']) {
        if ((await this.localnet.read(ifname)) !== '0') return true;
      }
      return false;
    } catch {
      return true;
    }
  }

  /** Best effort: a failure leaves the setting on, which is logged, not fatal. */
  private async disableLocalnet(): Promise<void> {
    const bridge = this.localnetOn as string;
    this.localnetOn = undefined;
    try {
      await this.localnet.write(bridge, '0');
      this.log.info('route_localnet disabled, no loopback-reachable port mapping left', { bridge });
    } catch (err) {
      this.log.warn('could not reset route_localnet', { bridge, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private async flushConntrack(before: NormalizedMapping[], after: NormalizedMapping[]): Promise<void> {
    if (this.conntrack === null) return;
    const changed = changedUdpMappings(before, after);
    if (changed.length > 0) await flushUdpConntrack(this.run, this.conntrack, changed, this.log);
  }

  private describe(code: number, stderr: string): string {
    return `${this.nft.join(' ')} exited ${code}: ${stderr.trim() || '(no stderr)'}`;
  }
}
