/**
 * knitd's operator API: the knit.v1.Knit gRPC service over a root-only unix
 * socket and, optionally, TCP with mutual TLS.
 *
 * The server only translates: requests are validated (INVALID_ARGUMENT names
 * the field), the `KnitStateSource` is asked, the answer converted to wire
 * messages. Source failures become UNAVAILABLE (StateUnavailableError) or
 * INTERNAL; nothing a client sends can stop the server. Bounds: requests are
 * at most `maxReceiveMessageBytes`, every source call at most
 * `sourceTimeoutMs` (and the client's deadline, which grpc-js enforces), and
 * each Watch client at most `watchQueueLimit` queued events (watch-hub.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_API_SOCKET } from '../base';
import type { Logger } from '../log/logger';
import type { KnitMetrics } from '../metrics';
import {
  bgpRouteToWire, bgpSessionToWire, changeToWire, endpointToWire, leaseToWire, networkToWire, nodeToWire, peerToWire, policyToWire, policyTraceToWire,
} from './convert';
import type { KnitHandlers } from './gen/knit/v1/Knit';
import type { WatchEvent } from './gen/knit/v1/WatchEvent';
import type { WatchRequest__Output } from './gen/knit/v1/WatchRequest';
import type { ListEndpointsResponse } from './gen/knit/v1/ListEndpointsResponse';
import { PreEncoded, withPreEncoded } from './pre-encoded';
import { loadKnitProto } from './proto';
import { stageSocket, unlinkOwnSocket } from '../net/unix-socket';
import { RequestError, StateUnavailableError, type KnitStateSource, type NetworkSource, type PolicySource } from './state-source';
import { checkTcp, tcpCredentials, type TcpListenOptions } from './transport';
import {
  ApiStatusError, checkContainerId, checkIfname, checkNetworkName, checkNodeName, checkOptionalUint, checkPolicyRef, checkShortText, checkSubnet, checkTraceRef,
} from './validate';
import { WatchHub } from './watch-hub';

/** Requests are tiny (a container ID at most): 64 KiB is generous. */
export const DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024;
export const DEFAULT_WATCH_QUEUE_LIMIT = 1024;
export const DEFAULT_SOURCE_TIMEOUT_MS = 10_000;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const GRPC_JS_VERSION = (require('@grpc/grpc-js/package.json') as { version: string }).version;

export interface ApiServerOptions {
  source: KnitStateSource;
  logger: Logger;
  /** Unix socket path (default /run/knit/knitd.sock); "" serves no unix socket. */
  socketPath?: string;
  /** Also listen on TCP (mutual TLS unless `insecure`). */
  tcp?: TcpListenOptions;
  maxReceiveMessageBytes?: number;
  watchQueueLimit?: number;
  sourceTimeoutMs?: number;
  metrics?: Pick<KnitMetrics, 'apiRequests' | 'apiWatchers' | 'apiWatchDrops'>;
  /** Override the location of knit.proto (tests, packaging). */
  protoFile?: string;
}

/** The knit.v1.Knit service on its listeners until `close()`. */
export class ApiServer {
  private server: grpc.Server | undefined;
  private socketInode: number | undefined;
  private boundTcpPort: number | undefined;
  private readonly hub: WatchHub;
  /** ListEndpoints' whole answer, encoded, for the endpoint set of `version` */
  private endpointsSnapshot: { version: number; encoded: PreEncoded } | undefined;
  private encodeListEndpoints: (res: ListEndpointsResponse) => Buffer = () => Buffer.alloc(0);
  private readonly socketPath: string;

  constructor(private readonly opts: ApiServerOptions) {
    this.socketPath = opts.socketPath ?? DEFAULT_API_SOCKET;
    this.hub = new WatchHub(
      (l) => opts.source.subscribe(l),
      (c) => changeToWire(c, GRPC_JS_VERSION),
      opts.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT,
      {
        watchers: (n) => opts.metrics?.apiWatchers.set(n),
        dropped: () => {
          opts.metrics?.apiWatchDrops.inc();
          opts.logger.warn('dropped a Watch client that fell behind', { queueLimit: opts.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT });
        },
      },
    );
  }

  /** The TCP port bound (useful with port 0), when TCP is on. */
  get tcpPort(): number | undefined {
    return this.boundTcpPort;
  }

  /** Connected Watch clients. */
  get watchers(): number {
    return this.hub.size;
  }

  /**
   * Checks the transport configuration (throws ApiConfigError before binding
   * anything, e.g. TCP without TLS and without `insecure`), then listens.
   */
  async start(): Promise<void> {
    if (this.server !== undefined) throw new Error('API server already started');
    const tcpMode = this.opts.tcp === undefined ? undefined : checkTcp(this.opts.tcp);
    const pkg = loadKnitProto(grpc, this.opts.protoFile);
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.opts.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
      // Dead peers (a killed knitctl on TCP) are noticed and their Watch freed.
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
    });
    const listEndpoints = pkg.Knit.service.ListEndpoints;
    this.encodeListEndpoints = (res) => listEndpoints.responseSerialize(res);
    server.addService(withPreEncoded(pkg.Knit.service, 'ListEndpoints'), this.handlers());
    this.server = server;
    try {
      if (this.socketPath !== '') {
        const staged = await stageSocket(this.socketPath);
        try {
          await bind(server, `unix:${staged.bindPath}`, grpc.ServerCredentials.createInsecure());
          this.socketInode = staged.publish();
        } catch (e) {
          staged.discard();
          throw e;
        }
        this.opts.logger.info('gRPC API listening', { socket: this.socketPath });
      }
      if (this.opts.tcp !== undefined && tcpMode !== undefined) {
        if (tcpMode === 'insecure') {
          this.opts.logger.warn('gRPC API on TCP WITHOUT TLS (grpc.insecure): anyone who reaches the port reads this node\'s state', {
            address: this.opts.tcp.address,
          });
        }
        this.boundTcpPort = await bind(server, this.opts.tcp.address, tcpCredentials(grpc, this.opts.tcp, tcpMode));
        this.opts.logger.info('gRPC API listening', { address: this.opts.tcp.address, port: this.boundTcpPort, tls: tcpMode });
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Ends Watch streams (UNAVAILABLE), stops the listeners and removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.hub.closeAll(grpc.status.UNAVAILABLE, 'knitd is shutting down; watch again when it is back');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    if (this.socketInode !== undefined) unlinkOwnSocket(this.socketPath, this.socketInode);
    this.socketInode = undefined;
    this.boundTcpPort = undefined;
  }

  private handlers(): KnitHandlers {
    const src = this.opts.source;
    return {
      GetNode: this.unary('GetNode', async () => nodeToWire(await src.getNode(), GRPC_JS_VERSION)),
      ListSubnets: this.unary('ListSubnets', async (req) => {
        checkSubnet('subnet', req.subnet);
        const list = await src.listSubnets();
        const leases = list.leases.filter((l) => req.subnet === '' || l.subnet === req.subnet);
        if (req.subnet !== '' && leases.length === 0) throw new ApiStatusError(grpc.status.NOT_FOUND, `no lease holds subnet ${req.subnet}`);
        return { leases: leases.map(leaseToWire), invalidSkipped: list.invalidSkipped };
      }),
      ListPeers: this.unary('ListPeers', async (req) => {
        checkNodeName('node_name', req.nodeName);
        const peers = (await src.listPeers()).filter((p) => req.nodeName === '' || p.nodeName === req.nodeName);
        if (req.nodeName !== '' && peers.length === 0) throw new ApiStatusError(grpc.status.NOT_FOUND, `no peer node named ${req.nodeName}`);
        return { peers: peers.map(peerToWire) };
      }),
      ListEndpoints: this.unary('ListEndpoints', async (req) => {
        checkContainerId('container_id', req.containerId, true);
        if (req.containerId === '') {
          // The whole list from the encoded snapshot while the endpoint set has not changed.
          const version = src.endpointsVersion?.();
          if (version !== undefined && this.endpointsSnapshot?.version === version) return this.endpointsSnapshot.encoded as unknown as ListEndpointsResponse;
          const res: ListEndpointsResponse = { endpoints: (await src.listEndpoints()).map(endpointToWire) };
          if (version !== undefined && src.endpointsVersion?.() === version) {
            this.endpointsSnapshot = { version, encoded: new PreEncoded(this.encodeListEndpoints(res)) };
          }
          return res;
        }
        const eps = (await src.listEndpoints()).filter((e) => req.containerId === '' || e.containerId === req.containerId);
        if (req.containerId !== '' && eps.length === 0) {
          throw new ApiStatusError(grpc.status.NOT_FOUND, `no endpoint for container ${req.containerId} on this node`);
        }
        return { endpoints: eps.map(endpointToWire) };
      }),
      GetEndpoint: this.unary('GetEndpoint', async (req) => {
        checkContainerId('container_id', req.containerId, false);
        checkIfname('ifname', req.ifname);
        const ifname = req.ifname === '' ? 'eth0' : req.ifname;
        const ep = (await src.listEndpoints()).find((e) => e.containerId === req.containerId && e.ifname === ifname);
        if (ep === undefined) {
          throw new ApiStatusError(grpc.status.NOT_FOUND, `no endpoint for container ${req.containerId} interface ${ifname} on this node`);
        }
        return endpointToWire(ep);
      }),
      ListBgpSessions: this.unary('ListBgpSessions', async () => ({ sessions: (await this.bgp().sessions()).map(bgpSessionToWire) })),
      ListBgpRoutes: this.unary('ListBgpRoutes', async () => ({ routes: (await this.bgp().routes()).map(bgpRouteToWire) })),
      ListNetworks: this.unary('ListNetworks', async () => {
        const { networks, invalid } = await this.networks().list();
        return { networks: networks.map(networkToWire), invalid: invalid.map((n) => `${n.name}: ${n.error}`) };
      }),
      GetNetwork: this.unary('GetNetwork', async (req) => {
        checkNetworkName('name', req.name);
        const n = await this.networks().get(req.name);
        if (n === undefined) throw new ApiStatusError(grpc.status.NOT_FOUND, `no network named ${req.name}`);
        return networkToWire(n);
      }),
      CreateNetwork: this.unary('CreateNetwork', async (req) => {
        checkNetworkName('name', req.name);
        const cidr = checkShortText('cidr', req.cidr, true)!;
        const backend = checkShortText('backend', req.backend, false);
        const subnetLength = checkOptionalUint('subnet_length', req.subnetLength, 128);
        const vni = checkOptionalUint('vni', req.vni, 0xffffff);
        const mtu = checkOptionalUint('mtu', req.mtu, 65535);
        const ipv6Cidr = checkShortText('ipv6_cidr', req.ipv6Cidr, false);
        const ipv6SubnetLength = checkOptionalUint('ipv6_subnet_length', req.ipv6SubnetLength, 128);
        return networkToWire(await this.networks().create(req.name, {
          cidr, internal: req.internal, noMasquerade: req.noMasquerade,
          ...(ipv6Cidr !== undefined ? { ipv6Cidr } : {}), ...(ipv6SubnetLength !== undefined ? { ipv6SubnetLength } : {}),
          ...(req.ipv6Masquerade ? { ipv6Masquerade: true } : {}),
          ...(backend !== undefined ? { backend } : {}), ...(subnetLength !== undefined ? { subnetLength } : {}),
          ...(vni !== undefined ? { vni } : {}), ...(mtu !== undefined ? { mtu } : {}),
        }));
      }),
      DeleteNetwork: this.unary('DeleteNetwork', async (req) => {
        checkNetworkName('name', req.name);
        if (!(await this.networks().remove(req.name))) throw new ApiStatusError(grpc.status.NOT_FOUND, `no network named ${req.name}`);
        return {};
      }),
      ListPolicies: this.unary('ListPolicies', async (req) => {
        if (req.network !== '') checkNetworkName('network', req.network);
        const { policies, invalid } = await this.policies().list(req.network === '' ? undefined : req.network);
        return { policies: policies.map(policyToWire), invalid };
      }),
      GetPolicy: this.unary('GetPolicy', async (req) => {
        const { network, name } = checkPolicyRef(req);
        const p = await this.policies().get(network, name);
        if (p === undefined) throw new ApiStatusError(grpc.status.NOT_FOUND, `no policy ${network}/${name}`);
        return policyToWire(p);
      }),
      ApplyPolicies: this.unary('ApplyPolicies', async (req) => {
        if (req.document.trim() === '') throw new ApiStatusError(grpc.status.INVALID_ARGUMENT, 'document: is required (a policy file, YAML or JSON)');
        return { policies: (await this.policies().apply(req.document)).map(policyToWire) };
      }),
      DeletePolicy: this.unary('DeletePolicy', async (req) => {
        const { network, name } = checkPolicyRef(req);
        if (!(await this.policies().remove(network, name))) throw new ApiStatusError(grpc.status.NOT_FOUND, `no policy ${network}/${name}`);
        return {};
      }),
      TracePolicy: this.unary('TracePolicy', async (req) => {
        const from = checkTraceRef('from', req.from);
        const to = checkTraceRef('to', req.to);
        const port = checkShortText('port', req.port, true)!;
        return policyTraceToWire(await this.policies().trace({ from, to, port }));
      }),
      Watch: (call) => this.watch(call),
    };
  }

  private policies(): PolicySource {
    const p = this.opts.source.policies;
    if (p === undefined) throw new ApiStatusError(grpc.status.FAILED_PRECONDITION, 'network policy needs cluster mode (etcd); this knitd runs single-node');
    return p;
  }

  private networks(): NetworkSource {
    const n = this.opts.source.networks;
    if (n === undefined) throw new ApiStatusError(grpc.status.FAILED_PRECONDITION, 'named networks need cluster mode (etcd); this knitd runs single-node');
    return n;
  }

  private bgp(): NonNullable<KnitStateSource['bgp']> {
    const bgp = this.opts.source.bgp;
    if (bgp === undefined) throw new ApiStatusError(grpc.status.FAILED_PRECONDITION, 'BGP is not enabled on this node');
    return bgp;
  }

  /** Wraps a handler: source time bound, status mapping, metrics, no response after cancel. */
  private unary<Req, Res>(method: string, fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      this.bounded(method, fn(call.request)).then(
        (res) => {
          this.count(method, grpc.status.OK);
          if (!call.cancelled) callback(null, res);
        },
        (err: unknown) => {
          const st = this.toStatus(method, err);
          this.count(method, st.code);
          if (!call.cancelled) callback(st);
        },
      );
    };
  }

  private watch(call: grpc.ServerWritableStream<WatchRequest__Output, WatchEvent>): void {
    this.count('Watch', grpc.status.OK);
    const client = this.hub.add({
      write: (ev) => call.write(ev),
      once: (event, cb) => call.once(event, cb),
      fail: (code, details) => {
        if (!call.cancelled && !call.writableEnded) call.emit('error', { code, details });
      },
    });
    const gone = (): void => this.hub.remove(client);
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
    void this.snapshot().then(
      (snap) => client.start(snap),
      (err: unknown) => {
        this.hub.remove(client);
        const st = this.toStatus('Watch', err);
        if (!call.cancelled) call.emit('error', st);
      },
    );
  }

  private async snapshot(): Promise<WatchEvent> {
    const src = this.opts.source;
    const [node, subnets, peers, endpoints, sessions, networks, policies] = await this.bounded('Watch', Promise.all([
      src.getNode(), src.listSubnets(), src.listPeers(), src.listEndpoints(), src.bgp?.sessions() ?? [],
      src.networks?.list() ?? { networks: [], invalid: [] },
      src.policies?.list() ?? { policies: [], invalid: [] },
    ]));
    return {
      snapshot: {
        node: nodeToWire(node, GRPC_JS_VERSION),
        leases: subnets.leases.map(leaseToWire),
        peers: peers.map(peerToWire),
        endpoints: endpoints.map(endpointToWire),
        bgpSessions: sessions.map(bgpSessionToWire),
        networks: networks.networks.map(networkToWire),
        policies: policies.policies.map(policyToWire),
      },
    };
  }

  private bounded<T>(method: string, p: Promise<T>): Promise<T> {
    const ms = this.opts.sourceTimeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ApiStatusError(grpc.status.DEADLINE_EXCEEDED, `${method}: knitd did not answer within ${ms} ms`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private toStatus(method: string, err: unknown): { code: grpc.status; details: string } {
    if (err instanceof ApiStatusError) return { code: err.code, details: err.message };
    if (err instanceof StateUnavailableError) return { code: grpc.status.UNAVAILABLE, details: err.message };
    if (err instanceof RequestError) {
      const code = err.reason === 'invalid' ? grpc.status.INVALID_ARGUMENT : err.reason === 'not-found' ? grpc.status.NOT_FOUND : grpc.status.FAILED_PRECONDITION;
      return { code, details: err.message };
    }
    const msg = err instanceof Error ? err.message : String(err);
    this.opts.logger.error('gRPC API call failed', { method, error: msg });
    return { code: grpc.status.INTERNAL, details: `${method} failed inside knitd: ${msg}` };
  }

  private count(method: string, code: grpc.status): void {
    this.opts.metrics?.apiRequests.inc({ method, code: grpc.status[code] });
  }
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, creds, (err, port) => {
      if (err !== null) reject(new Error(`bind gRPC API to ${address}`, { cause: err }));
      else resolve(port);
    });
  });
}
