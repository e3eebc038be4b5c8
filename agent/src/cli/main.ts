/**
 * knitctl: the operator CLI. `runKnitctl` is the whole program with its
 * outside world passed in (argv, env, output streams, file reading, the etcd
 * store factory), so it is tested in-process as well as through
 * agent/bin/knitctl.
 *
 * Start-up is kept light: grpc-js and the proto are loaded only by commands
 * that call knitd, etcd3 only by `network`.
 */
import * as fs from 'node:fs';
import { API_VERSION, causeMessages, DEFAULT_API_SOCKET, errorMessage, KNIT_VERSION, errorCode } from '../base';
import { UsageError, parseArgs, timeoutMs, type ParsedArgs } from './args';
import { CallError, ConnectError } from './errors';
import { commandHelp, mainHelp } from './help';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from './completion';
import type { NetworkConfigStore } from './network';
import type { PolicyStore } from './policy';
import type { EtcdNetworkStoreOptions } from './etcd-network-store';
import type { Node__Output } from '../api/gen/knit/v1/Node';
import type { ListSubnetsResponse__Output } from '../api/gen/knit/v1/ListSubnetsResponse';
import type { ListPeersResponse__Output } from '../api/gen/knit/v1/ListPeersResponse';
import type { ListEndpointsResponse__Output } from '../api/gen/knit/v1/ListEndpointsResponse';
import type { ListBgpRoutesResponse__Output } from '../api/gen/knit/v1/ListBgpRoutesResponse';
import type { ListBgpSessionsResponse__Output } from '../api/gen/knit/v1/ListBgpSessionsResponse';
import {
  nodeIsHealthy, renderTop, renderBgpRoutes, renderBgpSessions, renderEndpoints, renderPeers, renderRoutes, renderStatus, renderSubnets,
  renderWatchEvent,
} from './render';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;


export interface KnitctlIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  readFile?: (path: string) => Buffer;
  /** Reads all of stdin (for `network init -`). */
  readStdin?: () => Promise<string>;
  now?: () => Date;
  /** Builds the etcd-backed store (default: etcd-network-store.ts). */
  networkStore?: (o: EtcdNetworkStoreOptions) => NetworkConfigStore;
  /** Builds the etcd-backed policy store (default: etcd-policy-store.ts). */
  policyStore?: (o: EtcdNetworkStoreOptions) => PolicyStore;
  /** Resolves when the user interrupts `watch` (default: SIGINT/SIGTERM). */
  interrupted?: Promise<void>;
}

type Flags = ParsedArgs['flags'];

function str(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** Runs knitctl; resolves to the exit status. */
export async function runKnitctl(argv: string[], io: KnitctlIo): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`knitctl: ${e.message}\nRun "knitctl ${e.command !== undefined ? `${e.command.name} ` : ''}--help" for usage.\n`);
    return EXIT_USAGE;
  }
  if (!args.help && (args.command?.name === 'version' || (args.command === undefined && args.flags.has('version')))) {
    return await runVersion(args, io);
  }
  if (args.command?.name === 'completion' && !args.help) {
    const shell = args.positionals[0]!;
    if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
      io.stderr.write(`knitctl: completion supports ${COMPLETION_SHELLS.join(' and ')}, not ${JSON.stringify(shell)}\nRun "knitctl completion --help" for usage.\n`);
      return EXIT_USAGE;
    }
    io.stdout.write(completionScript(shell as CompletionShell));
    return EXIT_OK;
  }
  if (args.help || args.command === undefined) {
    io.stdout.write(args.command === undefined ? mainHelp() : commandHelp(args.command));
    return args.help ? EXIT_OK : EXIT_USAGE;
  }
  try {
    if (args.command.name.startsWith('network ') || args.command.name.startsWith('policy ')) return await runNetwork(args, io);
    return await runApi(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`knitctl: ${e.message}\nRun "knitctl ${args.command.name} --help" for usage.\n`);
      return EXIT_USAGE;
    }
    if (e instanceof ConnectError) {
      io.stderr.write(`knitctl: ${e.message}\n`);
      return EXIT_UNREACHABLE;
    }
    if (e instanceof CallError) {
      io.stderr.write(`knitctl: ${args.command.name}: ${e.message}\n`);
      return EXIT_FAILED;
    }
    io.stderr.write(`knitctl: ${args.command.name}: ${errorMessage(e)}${causeText(e)}\n`);
    return EXIT_FAILED;
  }
}

/**
 * `knitctl version` / `--version`: knitctl's own line always; then knitd's
 * (version, API, runtime) when it answers, else why not (exit 3).
 */
async function runVersion(args: ParsedArgs, io: KnitctlIo): Promise<number> {
  const f = args.flags;
  const json = f.get('output') === 'json';
  const mine = { version: KNIT_VERSION, api: API_VERSION, node: process.versions.node };
  let knitd: { version: string; api: string; node: string; grpcJs: string; target: string } | undefined;
  let error: string | undefined;
  try {
    const ms = timeoutMs(f);
    const { connect, call } = await import('./client');
    const conn = await connect(connectOptions(f, io, ms));
    try {
      const n = await call<Node__Output>(conn, (o, cb) => conn.client.getNode({}, o, cb));
      knitd = { version: n.versions?.knitd ?? '', api: n.versions?.api ?? '', node: n.versions?.node ?? '', grpcJs: n.versions?.grpcJs ?? '', target: conn.target };
    } finally {
      conn.close();
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`knitctl: ${e.message}\nRun "knitctl version --help" for usage.\n`);
      return EXIT_USAGE;
    }
    error = errorMessage(e);
  }
  if (json) {
    io.stdout.write(JSON.stringify({ knitctl: mine, knitd: knitd ?? null, ...(error !== undefined ? { error } : {}) }, null, 2) + '\n');
  } else {
    io.stdout.write(`knitctl  ${mine.version} (api ${mine.api}, node ${mine.node})\n`);
    if (knitd) io.stdout.write(`knitd    ${knitd.version} (api ${knitd.api}, node ${knitd.node}, grpc-js ${knitd.grpcJs}) at ${knitd.target}\n`);
    else io.stdout.write(`knitd    not reachable: ${error ?? 'unknown error'}\n`);
    if (knitd && knitd.api !== mine.api) io.stdout.write(`warning: knitctl speaks ${mine.api}, knitd ${knitd.api}: use a knitctl of knitd's version\n`);
  }
  return knitd ? EXIT_OK : EXIT_UNREACHABLE;
}

function connectOptions(f: Flags, io: KnitctlIo, ms: number): import('./client').ConnectOptions {
  return {
    socket: str(f, 'socket') ?? io.env.KNITCTL_SOCKET ?? DEFAULT_API_SOCKET,
    address: str(f, 'address'),
    tlsCert: str(f, 'tls-cert'),
    tlsKey: str(f, 'tls-key'),
    tlsCa: str(f, 'tls-ca'),
    insecure: f.get('insecure') === true,
    timeoutMs: ms,
    readFile: io.readFile ?? ((p) => fs.readFileSync(p)),
  };
}

/** " (direct cause)" when the error has one. */
function causeText(e: unknown): string {
  const cause = causeMessages(e, 2)[1];
  return cause === undefined ? '' : ` (${cause})`;
}

async function runApi(args: ParsedArgs, io: KnitctlIo): Promise<number> {
  const f = args.flags;
  const json = f.get('output') === 'json';
  const now = io.now ?? (() => new Date());
  const out = (s: string): void => void io.stdout.write(s);
  const printJson = (v: unknown): void => out(JSON.stringify(v, null, 2) + '\n');
  const ms = timeoutMs(f);
  let count: number | undefined;
  if (args.command?.name === 'watch' && f.has('count')) {
    count = Number(str(f, 'count'));
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count must be a positive integer, got ${JSON.stringify(str(f, 'count'))}`);
  }
  const bgpWhat = args.positionals[0] ?? 'sessions';
  if (args.command?.name === 'bgp' && bgpWhat !== 'sessions' && bgpWhat !== 'routes') {
    throw new UsageError(`bgp takes sessions or routes, got ${JSON.stringify(bgpWhat)}`);
  }

  // Loaded here so --help and usage errors never load grpc-js.
  const { connect, call } = await import('./client');
  const conn = await connect(connectOptions(f, io, ms));
  const c = conn.client;
  try {
    switch (args.command?.name) {
      case 'status': {
        const node = await call<Node__Output>(conn, (o, cb) => c.getNode({}, o, cb));
        if (json) printJson(node);
        else out(renderStatus(node, now()));
        return nodeIsHealthy(node) ? EXIT_OK : EXIT_FAILED;
      }
      case 'subnets': {
        const r = await call<ListSubnetsResponse__Output>(conn, (o, cb) => c.listSubnets({ subnet: str(f, 'subnet') ?? '' }, o, cb));
        if (json) printJson(r);
        else out(renderSubnets(r, now()));
        return EXIT_OK;
      }
      case 'peers':
      case 'routes': {
        const r = await call<ListPeersResponse__Output>(conn, (o, cb) => c.listPeers({ nodeName: str(f, 'node') ?? '' }, o, cb));
        if (json) printJson(r);
        else out(args.command.name === 'peers' ? renderPeers(r.peers, now()) : renderRoutes(r.peers));
        return EXIT_OK;
      }
      case 'endpoints': {
        const r = await call<ListEndpointsResponse__Output>(conn, (o, cb) => c.listEndpoints({ containerId: str(f, 'container') ?? '' }, o, cb));
        if (json) printJson(r);
        else out(renderEndpoints(r.endpoints, now()));
        return EXIT_OK;
      }
      case 'bgp': {
        if (bgpWhat === 'routes') {
          const r = await call<ListBgpRoutesResponse__Output>(conn, (o, cb) => c.listBgpRoutes({}, o, cb));
          if (json) printJson(r);
          else out(renderBgpRoutes(r.routes));
        } else {
          const r = await call<ListBgpSessionsResponse__Output>(conn, (o, cb) => c.listBgpSessions({}, o, cb));
          if (json) printJson(r);
          else out(renderBgpSessions(r.sessions));
        }
        return EXIT_OK;
      }
      case 'watch':
        return await watch(conn, json, count, io);
      case 'top':
        return await top(conn, f, json, io, now);
      default:
        throw new UsageError(`unknown command ${args.command?.name ?? ''}`);
    }
  } finally {
    conn.close();
  }
}

async function watch(conn: import('./client').Connection, json: boolean, count: number | undefined, io: KnitctlIo): Promise<number> {
  const { callError } = await import('./client');
  const stream = conn.client.watch({});
  let seen = 0;
  const interrupted = io.interrupted ?? new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      stream.removeAllListeners('data');
      stream.on('error', () => undefined);
      stream.cancel();
      resolve(code);
    };
    void interrupted.then(() => finish(EXIT_OK));
    stream.on('data', (ev) => {
      if (done) return;
      io.stdout.write(json ? JSON.stringify(ev) + '\n' : renderWatchEvent(ev));
      seen += 1;
      if (count !== undefined && seen >= count) finish(EXIT_OK);
    });
    stream.on('error', (err: { code: number; details: string }) => {
      if (done) return;
      io.stderr.write(`knitctl: watch: ${callError(err.code, err.details, conn.target).message}\n`);
      finish(EXIT_FAILED);
    });
    stream.on('end', () => {
      if (done) return;
      io.stderr.write('knitctl: watch: knitd ended the stream\n');
      finish(EXIT_FAILED);
    });
  });
}

/** `knitctl top`: one frame per interval (GetNode, ListPeers, ListEndpoints) until interrupted, or once. */
async function top(conn: import('./client').Connection, f: Flags, json: boolean, io: KnitctlIo, now: () => Date): Promise<number> {
  const { call } = await import('./client');
  const raw = str(f, 'interval');
  const interval = raw === undefined ? 2 : Number(raw);
  if (!Number.isFinite(interval) || interval < 0.2 || interval > 3600) {
    throw new UsageError(`--interval must be a number of seconds from 0.2 to 3600, got ${JSON.stringify(raw)}`);
  }
  const once = f.get('once') === true;
  const tty = (io.stdout as { isTTY?: boolean }).isTTY === true && !once && !json;
  let stop = false;
  const interrupted = io.interrupted ?? new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  let wake: () => void = () => undefined;
  void interrupted.then(() => { stop = true; wake(); });
  const c = conn.client;
  while (!stop) {
    const [node, peers, eps] = await Promise.all([
      call<Node__Output>(conn, (o, cb) => c.getNode({}, o, cb)),
      call<ListPeersResponse__Output>(conn, (o, cb) => c.listPeers({ nodeName: '' }, o, cb)),
      call<ListEndpointsResponse__Output>(conn, (o, cb) => c.listEndpoints({ containerId: '' }, o, cb)),
    ]);
    if (json) io.stdout.write(JSON.stringify({ node, peers: peers.peers, endpoints: eps.endpoints.length }) + '\n');
    else io.stdout.write((tty ? '\x1b[H\x1b[2J' : '') + renderTop(node, peers.peers, eps.endpoints.length, now()) + (tty ? '' : '\n'));
    if (once) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, interval * 1000);
      wake = () => { clearTimeout(t); resolve(); };
    });
  }
  return EXIT_OK;
}

async function runNetwork(args: ParsedArgs, io: KnitctlIo): Promise<number> {
  const f = args.flags;
  const endpoints = (str(f, 'etcd-endpoints') ?? io.env.KNIT_ETCD_ENDPOINTS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (endpoints.length === 0) throw new UsageError('network and policy commands need --etcd-endpoints (or $KNIT_ETCD_ENDPOINTS), e.g. http://127.0.0.1:2379');
  const readFile = io.readFile ?? ((p: string) => fs.readFileSync(p));
  const readFlag = (flag: string): Buffer | undefined => {
    const p = str(f, flag);
    if (p === undefined) return undefined;
    try {
      return readFile(p);
    } catch (e) {
      throw new UsageError(`cannot read --${flag} ${p}: ${errorCode(e) ?? errorMessage(e)}`);
    }
  };
  const ca = readFlag('etcd-ca');
  const cert = readFlag('etcd-cert');
  const key = readFlag('etcd-key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--etcd-cert and --etcd-key go together');
  const opts: EtcdNetworkStoreOptions = {
    endpoints,
    prefix: (str(f, 'etcd-prefix') ?? '/knit/v1').replace(/\/+$/, ''),
    dialTimeoutMs: timeoutMs(f) || 2_000_000_000, // 0: no timeout
    ...(ca !== undefined ? { tls: { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) } } : {}),
  };
  const json = f.get('output') === 'json';
  const nio = { out: (s: string) => void io.stdout.write(s), err: (s: string) => void io.stderr.write(s), json };
  let text: string | undefined;
  let source = '';
  if (args.command?.name === 'network init') {
    source = args.positionals[0];
    try {
      text = source === '-' ? await (io.readStdin ?? readAllStdin)() : readFile(source).toString('utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${source}: ${errorCode(e) ?? errorMessage(e)}`);
    }
    if (source === '-') source = 'stdin';
  }
  if (args.command?.name.startsWith('policy ')) return await runPolicy(args, io, opts, nio, readFile);
  const make = io.networkStore ?? (await import('./etcd-network-store')).etcdNetworkStore;
  const store = make(opts);
  const net = await import('./network');
  const name = args.positionals[0] ?? '';
  try {
    switch (args.command?.name) {
      case 'network init': return await net.networkInit(store, text ?? '', source, nio);
      case 'network create': return await net.networkCreate(store, name, {
        ...optional('cidr', str(f, 'cidr')), ...optional('subnetLength', str(f, 'subnet-length')),
        ...optional('ipv6Cidr', str(f, 'ipv6-cidr')), ...optional('ipv6SubnetLength', str(f, 'ipv6-subnet-length')),
        ipv6Masquerade: f.get('ipv6-masquerade') === true,
        ...optional('backend', str(f, 'backend')), ...optional('vni', str(f, 'vni')), ...optional('mtu', str(f, 'mtu')),
        internal: f.get('internal') === true, noMasquerade: f.get('no-masquerade') === true,
      }, nio);
      case 'network ls': return await net.networkList(store, nio);
      case 'network inspect': return await net.networkInspect(store, name, nio);
      case 'network rm': return await net.networkRemove(store, name, nio);
      default: return await net.networkShow(store, nio);
    }
  } catch (e) {
    // store/errors is loaded here only: the network commands talk to etcd anyway
    const { EtcdUnavailableError } = await import('../store');
    if (e instanceof EtcdUnavailableError) {
      io.stderr.write(`knitctl: cannot reach etcd at ${endpoints.join(',')}: ${e.message}\n`);
      return EXIT_UNREACHABLE;
    }
    throw e;
  } finally {
    await store.close?.();
  }
}

async function runPolicy(
  args: ParsedArgs, io: KnitctlIo, opts: EtcdNetworkStoreOptions,
  pio: { out(s: string): void; err(s: string): void; json: boolean }, readFile: (p: string) => Buffer,
): Promise<number> {
  const f = args.flags;
  const pol = await import('./policy');
  let text = '';
  let source = '';
  if (args.command?.name === 'policy apply') {
    source = str(f, 'file') ?? '';
    if (source === '') throw new UsageError('policy apply needs -f FILE');
    try {
      text = source === '-' ? await (io.readStdin ?? readAllStdin)() : readFile(source).toString('utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${source}: ${errorCode(e) ?? errorMessage(e)}`);
    }
    if (source === '-') source = 'stdin';
    // Validate before connecting: a bad file never reaches etcd.
    pol.validatePolicyText(text, source);
  }
  let trace: { from: string; to: string; port: string } | undefined;
  if (args.command?.name === 'policy trace') {
    const from = str(f, 'from');
    const to = str(f, 'to');
    const port = str(f, 'port');
    if (from === undefined || to === undefined || port === undefined) throw new UsageError('policy trace needs --from, --to and --port');
    pol.checkPortArg(port);
    trace = { from, to, port };
  }
  const store = (io.policyStore ?? (await import('./etcd-policy-store')).etcdPolicyStore)(opts);
  const name = args.positionals[0] ?? '';
  try {
    switch (args.command?.name) {
      case 'policy apply': return await pol.policyApply(store, text, source, pio);
      case 'policy inspect': return await pol.policyInspect(store, name, pio);
      case 'policy rm': return await pol.policyRemove(store, name, pio);
      case 'policy trace': return await pol.policyTrace(store, trace!, pio);
      default: return await pol.policyList(store, pio);
    }
  } catch (e) {
    const { EtcdUnavailableError } = await import('../store');
    if (e instanceof EtcdUnavailableError) {
      io.stderr.write(`knitctl: cannot reach etcd at ${opts.endpoints.join(',')}: ${e.message}\n`);
      return EXIT_UNREACHABLE;
    }
    throw e;
  } finally {
    await store.close?.();
  }
}

/** `{ [key]: value }` when value is defined, else `{}` (exactOptionalPropertyTypes). */
function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function readAllStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.once('error', reject);
  });
}
