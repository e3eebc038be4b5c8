/**
 * deploy/kubernetes/*.yaml checked without a cluster (kubectl's client-side
 * dry run needs an API server for discovery): every document parses and has
 * the essentials of its kind; the DaemonSet's probes hit paths knit's real
 * metrics server answers; every mount has a volume and the host paths knit
 * needs are mounted; the ConfigMap's config file, with the DaemonSet's
 * environment, is accepted by knitd's own config loader and points at the
 * mounted directories; the image built by deploy/docker/Dockerfile holds the
 * init container's script and the plugin it installs.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../agent/src/config';
import type { KnitdConfig } from '../../agent/src/config';
import { silentLogger } from '../../agent/src/log/logger';
import { MetricsServer } from '../../agent/src/metrics';

const REPO = join(__dirname, '..', '..', '..');
const K8S = join(REPO, 'deploy', 'kubernetes');

type Obj = Record<string, unknown>;
interface Mount { name: string; mountPath: string; subPath?: string; mountPropagation?: string }
interface Container {
  name: string; image?: string; command?: string[]; args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports?: Array<{ name?: string; containerPort: number; hostPort?: number }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: { privileged?: boolean; capabilities?: { add?: string[] } };
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
  volumeMounts?: Mount[];
}
interface Volume { name: string; hostPath?: { path: string }; configMap?: { name: string }; secret?: { secretName: string } }

function loadDocs(): Obj[] {
  const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml'));
  const docs: Obj[] = [];
  for (const f of files) {
    for (const d of parseAllDocuments(readFileSync(join(K8S, f), 'utf8'))) {
      expect(d.errors, `${f}: YAML errors`).to.deep.equal([]);
      docs.push(d.toJS() as Obj);
    }
  }
  return docs;
}

function mebibytes(q: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`quantity ${q} not in Mi/Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** The DaemonSet's environment for a node, with fieldRefs filled in and $(VAR) expanded as the kubelet does. */
function podEnv(c: Container, node: { name: string; ip: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.fieldRef?.fieldPath;
    if (ref === 'spec.nodeName') env[e.name] = node.name;
    else if (ref === 'status.hostIP') env[e.name] = node.ip;
    else if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(([A-Z_]+)\)/g, (_, v: string) => env[v] ?? `$(${v})`);
    else throw new Error(`env ${e.name}: unsupported source`);
  }
  return env;
}

async function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
}

describe('deploy/kubernetes manifests', () => {
  const docs = loadDocs();
  const byKind = (kind: string): Obj[] => docs.filter((d) => d.kind === kind);
  const ds = byKind('DaemonSet')[0] as { metadata: Obj; spec: { selector: { matchLabels: Obj }; template: { metadata: { labels: Obj }; spec: Obj } } };
  const pod = ds.spec.template.spec as {
    hostNetwork?: boolean; serviceAccountName?: string; tolerations?: Array<{ operator?: string; key?: string; effect?: string }>;
    initContainers: Container[]; containers: Container[]; volumes: Volume[];
  };
  const knitd = pod.containers.find((c) => c.name === 'knitd')!;

  it('has a ServiceAccount, a ConfigMap and a DaemonSet, each with apiVersion, kind, name and namespace', () => {
    expect(docs.map((d) => `${String(d.apiVersion)}/${String(d.kind)}`).sort()).to.deep.equal(['apps/v1/DaemonSet', 'v1/ConfigMap', 'v1/ServiceAccount']);
    for (const d of docs) {
      const meta = d.metadata as { name?: string; namespace?: string };
      expect(meta.name, String(d.kind)).to.be.a('string').and.not.equal('');
      expect(meta.namespace, String(d.kind)).to.equal('kube-system');
    }
  });

  it('DaemonSet: selector matches the pod labels, host network, its ServiceAccount, tolerates every taint', () => {
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) expect(ds.spec.template.metadata.labels[k]).to.equal(v);
    expect(pod.hostNetwork).to.equal(true);
    const sa = byKind('ServiceAccount')[0]!.metadata as { name: string };
    expect(pod.serviceAccountName).to.equal(sa.name);
    // A toleration with operator Exists and no key tolerates every taint, NoSchedule and NoExecute alike.
    expect(pod.tolerations?.some((t) => t.operator === 'Exists' && t.key === undefined && t.effect === undefined)).to.equal(true);
  });

  it('knitd may do netlink, nftables and setns: privileged or NET_ADMIN + SYS_ADMIN', () => {
    const sc = knitd.securityContext ?? {};
    const caps = sc.capabilities?.add ?? [];
    expect(sc.privileged === true || (caps.includes('NET_ADMIN') && caps.includes('SYS_ADMIN'))).to.equal(true);
  });

  it('every mount has a volume, every volume is mounted, and the host paths knit needs are mounted', () => {
    const volumes = new Map(pod.volumes.map((v) => [v.name, v]));
    const mounts = [...pod.initContainers, ...pod.containers].flatMap((c) => c.volumeMounts ?? []);
    for (const m of mounts) expect(volumes.has(m.name), `volume for mount ${m.name}`).to.equal(true);
    for (const v of pod.volumes) expect(mounts.some((m) => m.name === v.name), `mount of volume ${v.name}`).to.equal(true);
    const hostPaths = pod.volumes.filter((v) => v.hostPath).map((v) => v.hostPath!.path);
    for (const p of ['/etc/cni/net.d', '/opt/cni/bin', '/run/knit', '/var/lib/knit', '/run/netns']) expect(hostPaths, p).to.include(p);
    // knitd gets host paths from the runtime (CNI_NETNS, the socket in the conflist): same path inside as outside.
    for (const m of knitd.volumeMounts!) {
      const host = volumes.get(m.name)?.hostPath?.path;
      if (host !== undefined) expect(m.mountPath, `knitd mount of host ${host}`).to.equal(host);
    }
    const netns = knitd.volumeMounts!.find((m) => volumes.get(m.name)?.hostPath?.path === '/run/netns')!;
    expect(netns.mountPropagation, 'namespaces made after start must be visible').to.equal('HostToContainer');
    const cm = pod.volumes.find((v) => v.configMap)!;
    expect(byKind('ConfigMap').map((d) => (d.metadata as { name: string }).name)).to.include(cm.configMap!.name);
  });

  it('probes use the metrics port and paths that knit\'s metrics server answers', async () => {
    expect(knitd.livenessProbe?.httpGet?.path).to.equal('/healthz');
    expect(knitd.readinessProbe?.httpGet?.path).to.equal('/readyz');
    const port = knitd.ports!.find((p) => p.name === knitd.livenessProbe!.httpGet!.port)!;
    expect(port, 'named probe port').to.not.equal(undefined);
    expect(knitd.readinessProbe!.httpGet!.port).to.equal(port.name);
    // hostNetwork: the kubelet probes the host IP, where knitd must listen on that port.
    const env = podEnv(knitd, { name: 'worker-1', ip: '10.0.0.21' });
    expect(env.KNIT_METRICS_ADDRESS).to.equal(`10.0.0.21:${port.containerPort}`);
    expect(port.hostPort).to.equal(port.containerPort);
    const server = new MetricsServer({
      address: '127.0.0.1:0', render: async () => '', contentType: 'text/plain', readiness: () => ({ ok: true, reasons: [] }), logger: silentLogger(),
    });
    await server.start();
    try {
      for (const path of ['/healthz', '/readyz']) expect(await httpStatus(server.port!, path), path).to.equal(200);
      expect(await httpStatus(server.port!, '/nope'), 'a wrong path would be caught').to.equal(404);
    } finally {
      await server.close();
    }
  });

  it('requests at least the measured knitd RSS (~100 MiB) and limits memory above it', () => {
    const r = knitd.resources!;
    expect(mebibytes(r.requests!.memory!)).to.be.at.least(100);
    expect(mebibytes(r.limits!.memory!)).to.be.above(mebibytes(r.requests!.memory!));
    expect(r.requests!.cpu).to.match(/^\d+m$/);
  });

  describe('the ConfigMap config, with the DaemonSet environment, through knitd\'s config loader', () => {
    let cfg: KnitdConfig;
    const mountOf = (path: string): Mount | undefined => knitd.volumeMounts!.find((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));

    before(() => {
      const cmDoc = byKind('ConfigMap')[0] as { data: Record<string, string> };
      const configPath = knitd.args![knitd.args!.indexOf('--config') + 1]!;
      const mount = mountOf(configPath)!;
      expect(mount.subPath, 'config mounted from the ConfigMap key').to.be.a('string');
      cfg = loadConfig({
        argv: knitd.args!,
        env: podEnv(knitd, { name: 'worker-1', ip: '10.0.0.21' }),
        readFile: (p) => {
          if (p !== configPath) throw new Error(`unexpected read of ${p}`);
          return cmDoc.data[mount.subPath!]!;
        },
        hostname: 'container-hostname',
      });
    });

    it('is accepted: cluster mode, node name and public IP from the pod, metrics on the host IP', () => {
      expect(cfg.etcd.endpoints.length).to.be.greaterThan(0);
      expect(cfg.nodeName).to.equal('worker-1');
      expect(cfg.publicIp).to.equal('10.0.0.21');
      expect(cfg.metrics.address).to.equal('10.0.0.21:9654');
      expect(cfg.network).to.have.property('clusterCidr');
    });

    it('puts state, sockets, the conflist and the etcd certificates on mounted paths', () => {
      for (const p of [cfg.stateDir, cfg.runDir, cfg.cniConfDir, cfg.cniSocket, cfg.grpc.socket, cfg.etcd.caFile!, cfg.etcd.certFile!, cfg.etcd.keyFile!]) {
        expect(mountOf(p), `${p} is on a mount`).to.not.equal(undefined);
      }
      const hostPathOf = (p: string): string | undefined => pod.volumes.find((v) => v.name === mountOf(p)!.name)?.hostPath?.path;
      expect(hostPathOf(cfg.stateDir)).to.equal('/var/lib/knit');
      expect(hostPathOf(cfg.cniConfDir)).to.equal('/etc/cni/net.d');
      expect(hostPathOf(cfg.runDir)).to.equal('/run/knit');
    });
  });

  describe('init container and image', () => {
    const dockerfile = readFileSync(join(REPO, 'deploy', 'docker', 'Dockerfile'), 'utf8');
    const init = pod.initContainers[0]!;

    it('uses the same image as knitd and runs the install script the image carries', () => {
      expect(init.image).to.equal(knitd.image);
      const script = init.command![0]!;
      expect(dockerfile).to.include(`COPY deploy/docker/install-cni.sh .${script.replace('/opt/knit', '')}`);
      expect(dockerfile).to.match(/^WORKDIR \/opt\/knit$/m);
    });

    it('installs into the mounted host /opt/cni/bin the plugin the image builds', () => {
      const script = readFileSync(join(REPO, 'deploy', 'docker', 'install-cni.sh'), 'utf8');
      const binDir = init.env!.find((e) => e.name === 'CNI_BIN_DIR')!.value!;
      const mount = init.volumeMounts!.find((m) => m.mountPath === binDir)!;
      expect(pod.volumes.find((v) => v.name === mount.name)?.hostPath?.path).to.equal('/opt/cni/bin');
      expect(script).to.include('src=/opt/knit/dist/cni-plugin/knit');
      expect(script).to.not.include('knit-sea');
      expect(dockerfile).to.include('npm run build:plugin');
      expect(dockerfile).to.include('COPY --from=build /src/dist/cni-plugin ./dist/cni-plugin');
      const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(readFileSync(join(REPO, pkg.scripts['build:plugin']!.replace(/^bash /, '')), 'utf8')).to.include('out=${1:-dist/cni-plugin/knit}');
    });
  });
});
