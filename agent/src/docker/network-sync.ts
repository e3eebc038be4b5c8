/**
 * Makes knit's networks feel cluster-wide in Docker 20.10, which has no
 * cluster store: every knitd keeps, on its own node's dockerd, one Docker
 * network (driver and IPAM `knit`, same name) per named knit network, and
 * removes it when the knit network is gone. So `knitctl network create demo`
 * on any machine gives every host a `demo` network for `docker run --net demo`
 * within moments (docs/docker.md).
 *
 * Level-triggered like the rest of knit: each run lists dockerd's networks
 * and creates/removes the difference; runs coalesce (SerialRunner); while
 * dockerd cannot be reached a run is retried every few seconds.
 */
import * as http from 'node:http';
import type { Logger } from '../log/logger';
import { describeError, realClock, SerialRunner, Timer } from '../base';

/** The label knitd puts on the Docker networks it manages (it removes only those). */
export const MANAGED_LABEL = 'knit.network';

const RETRY_MS = 3000;
const CALL_TIMEOUT_MS = 10_000;

export interface WantedDockerNetwork {
  name: string;
  internal: boolean;
  /** this node's subnet of the knit network and its gateway (the bridge) */
  subnet: string;
  gateway: string;
  /** dual-stack: this node's IPv6 subnet and the bridge's IPv6 gateway (the Docker network gets --ipv6) */
  ipv6?: { subnet: string; gateway: string };
  /** why this knit network gets no Docker network (e.g. IPv6-only: Docker 20.10 needs an IPv4 pool); logged once */
  unsupported?: string;
}

interface DockerNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Labels?: Record<string, string> | null;
}

/** One call to dockerd's API over its unix socket; resolves with status and parsed body. */
export function dockerApi(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({
      socketPath, method, path, timeout: CALL_TIMEOUT_MS,
      headers: { Host: 'docker', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          // keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`dockerd did not answer ${method} ${path} within ${CALL_TIMEOUT_MS} ms`)));
    req.once('error', (err) => reject(new Error(`dockerd API ${socketPath}: ${method} ${path}`, { cause: err })));
    req.end(data);
  });
}

function apiError(what: string, r: { status: number; body: unknown }): Error {
  const msg = typeof r.body === 'object' && r.body !== null && typeof (r.body as { message?: unknown }).message === 'string'
    ? (r.body as { message: string }).message : JSON.stringify(r.body);
  return new Error(`${what}: dockerd answered ${r.status}: ${msg}`);
}

export class DockerNetworkSync {
  private readonly runner: SerialRunner;
  private readonly retry: Timer;
  private readonly log: Logger;
  /** knit networks whose `unsupported` reason was logged (once each) */
  private readonly unsupportedLogged = new Set<string>();

  constructor(private readonly o: { apiSocket: string; wanted: () => WantedDockerNetwork[]; logger: Logger }) {
    this.log = o.logger.child({ module: 'docker-sync' });
    this.retry = new Timer(realClock, () => this.runner.request());
    this.runner = new SerialRunner(() => this.sync(), {
      onError: (err) => {
        this.log.warn('could not bring dockerd\'s networks in line with knit\'s; retrying', { error: describeError(err), retryInMs: RETRY_MS });
        this.retry.armIfIdle(RETRY_MS);
      },
    });
  }

  /** Asks for a run (knit's networks changed, or at start). */
  request(): void {
    this.runner.request();
  }

  /** Runs now (or joins the run in flight) and resolves when idle. */
  join(): Promise<void> {
    return this.runner.join();
  }

  async stop(): Promise<void> {
    this.retry.cancel();
    await this.runner.stop();
  }

  private async sync(): Promise<void> {
    const listed = await dockerApi(this.o.apiSocket, 'GET', '/networks');
    if (listed.status !== 200 || !Array.isArray(listed.body)) throw apiError('list networks', listed);
    const have = listed.body as DockerNetwork[];
    const wanted = this.o.wanted();
    for (const w of wanted) {
      if (w.unsupported !== undefined) {
        if (!this.unsupportedLogged.has(w.name)) this.log.warn('no Docker network for this knit network', { network: w.name, reason: w.unsupported });
        this.unsupportedLogged.add(w.name);
        continue;
      }
      const same = have.find((n) => n.Name === w.name);
      if (same) {
        if (same.Driver !== 'knit') this.log.warn('a Docker network with the name of a knit network uses another driver; leaving it alone', { network: w.name, driver: same.Driver });
        continue;
      }
      const r = await dockerApi(this.o.apiSocket, 'POST', '/networks/create', {
        Name: w.name, Driver: 'knit', CheckDuplicate: true, Internal: w.internal,
        // A dual-stack knit network is an IPv6 Docker network: dockerd then asks knit's IPAM for both pools and addresses.
        EnableIPv6: w.ipv6 !== undefined,
        // Explicit subnets: this node's lease (dockerd then skips its host-route overlap check).
        IPAM: {
          Driver: 'knit', Options: { network: w.name },
          Config: [{ Subnet: w.subnet, Gateway: w.gateway }, ...(w.ipv6 ? [{ Subnet: w.ipv6.subnet, Gateway: w.ipv6.gateway }] : [])],
        },
        Labels: { [MANAGED_LABEL]: w.name },
      });
      // 409: created meanwhile (by a user, or a run racing a dockerd restart).
      if (r.status !== 201 && r.status !== 409) throw apiError(`create Docker network ${w.name}`, r);
      this.log.info('Docker network created for the knit network', { network: w.name });
    }
    for (const n of have) {
      const managed = n.Labels?.[MANAGED_LABEL];
      if (n.Driver !== 'knit' || managed === undefined || wanted.some((w) => w.name === n.Name)) continue;
      const r = await dockerApi(this.o.apiSocket, 'DELETE', `/networks/${encodeURIComponent(n.Id)}`);
      if (r.status !== 204 && r.status !== 404) {
        this.log.warn('could not remove the Docker network of a removed knit network (containers still on it?)', { network: n.Name, error: apiError('remove', r).message });
        continue;
      }
      this.log.info('Docker network removed with its knit network', { network: n.Name });
    }
  }
}
