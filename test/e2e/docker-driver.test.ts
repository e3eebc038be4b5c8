/**
 * knit as Docker's network driver, end to end with real dockerds: three lab
 * nodes, each with its own dockerd (Debian's 20.10, own data root, plugin
 * directory pointing at its own knitd) and knitd with docker.enabled. Two
 * knit networks made once with knitctl appear as Docker networks on every
 * host; `docker run --net` on three hosts: the ping matrix across hosts and
 * networks, a published port reached from another host and from the node,
 * docker network connect/disconnect, inspect shows knit's subnet and gateway,
 * embedded DNS by name on one host, container restart, dockerd restart with
 * live-restore, a dual-stack knit network as an IPv6 Docker network, network rm.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import { BUSYBOX_IMAGE, importBusybox, labDockerPath, startDockerd, type LabDockerd } from '../lab/dockerd';
import { etcdctl, startClusterKnitd, waitFor } from './cluster-lab';
import { KNITCTL } from './api-lab';
import { cleanupAll } from '../lab/cleanup';

interface Ctr { name: string; host: number; network: string; ip: string; ip6?: string }

describe('Docker driver: 3 hosts x 2 knit networks with real dockerd', function () {
  this.timeout(600_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const dockerds: LabDockerd[] = [];
  const ctrs: Ctr[] = [];
  /** b0 (host 1) and b2 (host 3) on the dual-stack network blue6 */
  const blue: Ctr[] = [];

  const knitctl = (args: string[]) => lab.exec(lab.underlay.ns, KNITCTL, [...args, '--etcd-endpoints', lab.etcdEndpoints.join(',')]);

  async function run(host: number, name: string, network: string, extra: string[] = [], cmd = ['sleep', '3600']): Promise<Ctr> {
    await dockerds[host]!.docker(['run', '-d', '--name', name, '--net', network, ...extra, BUSYBOX_IMAGE, ...cmd]);
    const ip = (await dockerds[host]!.docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name])).trim();
    const c = { name, host, network, ip };
    return c;
  }

  async function ping(from: Ctr, ip: string, count = 1): Promise<boolean> {
    const r = await dockerds[from.host]!.dockerRun(['exec', from.name, 'ping', '-c', String(count), '-W', '1', ip], 20_000);
    return r.code === 0;
  }

  const addr4 = async (host: number, name: string, network: string): Promise<string> =>
    (await dockerds[host]!.docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name])).trim();
  const addr6 = async (host: number, name: string, network: string): Promise<string> =>
    (await dockerds[host]!.docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").GlobalIPv6Address}}`, name])).trim();
  /** HTTP GET of http://HOST:PORT/ with curl from a lab namespace (busybox-static's wget crashes on the host); "" when it fails. */
  const nodeGet = (ns: string, host: string, port: number): Promise<string> =>
    lab.exec(ns, 'curl', ['-sg', '-m', '3', `http://${host.includes(':') ? `[${host}]` : host}:${port}/`]).catch(() => '');
  /** The same from inside a container, with busybox nc (its wget crashes too); "" when it fails. */
  const ctrGet = async (c: Ctr, host: string, port: number): Promise<string> => {
    const r = await dockerds[c.host]!.dockerRun(['exec', c.name, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${port}`], 20_000);
    return r.code === 0 ? r.stdout : '';
  };

  before(async function () {
    // IPv6 on the underlay too: the dual-stack cases publish ports on the nodes' IPv6 addresses.
    lab = await createLab({ nodes: 3, etcd: true, ipv6: true });
    for (const [i, node] of lab.nodes.entries()) {
      const pluginSocket = labDockerPath(`n${i}-knit.sock`);
      const d = await startDockerd(node, `n${i}`, pluginSocket);
      dockerds.push(d);
      knitds.push(await startClusterKnitd(lab, node, undefined, {
        args: ['--docker-enabled', '--docker-plugin-socket', pluginSocket, '--docker-api-socket', d.socket],
        // node 1's knitd logs what dockerd sends in CreateEndpoint (the endpoint labels case reads it)
        ...(i === 0 ? { logLevel: 'debug' as const } : {}),
      }));
    }
    await Promise.all(dockerds.map((d) => importBusybox(d)));
  });
  let printed = false;
  afterEach(function () {
    // On the first failure, show what knitd and dockerd said about the Docker side.
    if (this.currentTest?.state !== 'failed' || printed) return;
    printed = true;
    for (const k of knitds) {
      const lines = readFileSync(k.logPath, 'utf8').split('\n').filter((l) => /docker|Docker|error/.test(l)).slice(-25);
      console.log(`      --- ${k.node.name} knitd (docker lines)\n${lines.join('\n')}`);
    }
    for (const d of dockerds) console.log(`      --- ${d.node.name} dockerd\n${readFileSync(d.logPath, 'utf8').split('\n').filter((l) => /level=(error|warning)|plugin|knit/.test(l)).slice(-12).join('\n')}`);
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(dockerds, (d) => () => d.destroy().catch((err: unknown) => console.log(`      (dockerd teardown: ${String(err)})`))),
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('knitctl network create: every host gets the Docker network (driver knit), inspect shows knit\'s subnet and gateway', async () => {
    await knitctl(['network', 'create', 'red', '--cidr', '10.70.0.0/16']);
    await knitctl(['network', 'create', 'green', '--cidr', '10.80.0.0/16']);
    const { ms } = await waitFor('red and green on every dockerd', async () => {
      for (const d of dockerds) {
        const names = (await d.docker(['network', 'ls', '--filter', 'driver=knit', '--format', '{{.Name}}'])).split('\n');
        if (!names.includes('red') || !names.includes('green')) return false;
      }
      return true;
    }, 30_000);
    console.log(`      (knitctl network create -> Docker network on all 3 hosts: ${ms} ms)`);
    const inspect = JSON.parse(await dockerds[0]!.docker(['network', 'inspect', 'red'])) as Array<{ Driver: string; IPAM: { Driver: string; Config: Array<{ Subnet: string; Gateway: string }> } }>;
    const detail = JSON.parse(await knitctl(['network', 'inspect', 'red', '-o', 'json'])) as { subnets: Array<{ subnet: string; node: string }> };
    const mine = detail.subnets.find((s) => s.node === 'node1')!;
    expect(inspect[0]!.Driver).to.equal('knit');
    expect(inspect[0]!.IPAM.Driver).to.equal('knit');
    expect(inspect[0]!.IPAM.Config[0]!.Subnet).to.equal(mine.subnet);
    expect(inspect[0]!.IPAM.Config[0]!.Gateway).to.equal(mine.subnet.replace(/0\/24$/, '1'));
  });

  it('docker run --net on 3 hosts: containers get addresses of their host\'s lease', async () => {
    for (let h = 0; h < 3; h++) {
      ctrs.push(await run(h, `r${h}`, 'red'));
      ctrs.push(await run(h, `g${h}`, 'green'));
    }
    for (const c of ctrs) expect(c.ip, c.name).to.match(c.network === 'red' ? /^10\.70\./ : /^10\.80\./);
  });

  it('ping matrix across hosts: same network reachable, the other network not', async () => {
    const fails: string[] = [];
    const leaks: string[] = [];
    let pairs = 0;
    await Promise.all(ctrs.flatMap((a) => ctrs.filter((b) => b !== a).map(async (b) => {
      pairs++;
      const ok = await ping(a, b.ip, a.network === b.network ? 2 : 1);
      if (a.network === b.network && !ok) fails.push(`${a.name} -> ${b.name}`);
      if (a.network !== b.network && ok) leaks.push(`${a.name} -> ${b.name}`);
    })));
    expect(pairs).to.equal(30);
    expect(fails, 'same network, no reply').to.deep.equal([]);
    expect(leaks, 'other network, replied').to.deep.equal([]);
  });

  it('embedded DNS: containers on one network and one host reach each other by name', async () => {
    await run(0, 'dns-a', 'red');
    const out = await dockerds[0]!.docker(['exec', 'r0', 'ping', '-c', '1', '-W', '2', 'dns-a']);
    expect(out).to.match(/1 packets received/);
    await dockerds[0]!.docker(['rm', '-f', 'dns-a']);
  });

  it('a published port (-p 8080:80) is reached from another host and from the node itself', async () => {
    await dockerds[1]!.docker(['run', '-d', '--name', 'web', '--net', 'red', '-p', '8080:80', BUSYBOX_IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www']);
    const nodeIp = lab.nodes[1]!.underlayIp;
    const { value: remote } = await waitFor('port 8080 from node3', async () => {
      const r = await lab.exec(lab.nodes[2]!.ns, 'bash', ['-c', `exec 3<>/dev/tcp/${nodeIp}/8080 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`]).catch(() => '');
      return r.includes('knit') ? r : false;
    }, 15_000);
    expect(remote).to.include('200 OK');
    const local = await lab.exec(lab.nodes[1]!.ns, 'bash', ['-c', `exec 3<>/dev/tcp/${nodeIp}/8080 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`]);
    expect(local).to.include('knit');
  });

  it('docker network connect/disconnect: a second knit interface, then gone', async () => {
    const g2 = ctrs.find((c) => c.name === 'g2')!;
    await dockerds[0]!.docker(['network', 'connect', 'green', 'r0']);
    const ip = (await dockerds[0]!.docker(['inspect', '-f', '{{(index .NetworkSettings.Networks "green").IPAddress}}', 'r0'])).trim();
    expect(ip).to.match(/^10\.80\./);
    expect(await ping({ name: 'r0', host: 0, network: 'green', ip }, g2.ip, 2), 'r0 (now also green) -> g2 on host 3').to.equal(true);
    const routes = await dockerds[0]!.docker(['exec', 'r0', 'ip', 'route']);
    expect(routes.split('\n').filter((l) => l.startsWith('default')).length, routes).to.equal(1);
    await dockerds[0]!.docker(['network', 'disconnect', 'green', 'r0']);
    expect(await ping({ name: 'r0', host: 0, network: 'red', ip: '' }, g2.ip, 1), 'r0 after disconnect -> g2').to.equal(false);
  });

  it('endpoint labels: --driver-opt knit.label.KEY=VALUE on docker network connect become the endpoint\'s policy labels; a bad one is refused', async () => {
    await dockerds[0]!.docker(['network', 'connect', '--driver-opt', 'knit.label.app=web', '--driver-opt', 'knit.label.tier=front', 'green', 'r0']);
    const ip = (await dockerds[0]!.docker(['inspect', '-f', '{{(index .NetworkSettings.Networks "green").IPAddress}}', 'r0'])).trim();
    const records = async (): Promise<Array<{ key: string; labels: Record<string, string>; addresses: string[] }>> => {
      const lines = (await etcdctl(lab, ['get', '--prefix', '/knit/v1/policy-endpoints/green/'])).split('\n').filter((l) => l !== '');
      const out = [];
      for (let i = 0; i + 1 < lines.length; i += 2) out.push({ key: lines[i]!, ...(JSON.parse(lines[i + 1]!) as { labels: Record<string, string>; addresses: string[] }) });
      return out;
    };
    const { value: rec } = await waitFor('r0\'s record on green with its labels', async () => (await records()).find((r) => r.addresses.includes(ip)), 10_000);
    expect(rec.labels).to.deep.equal({ app: 'web', tier: 'front' });
    // What dockerd 20.10 passes in CreateEndpoint's Options (knitd logs the keys at debug): the driver options, as top-level keys.
    const created = readFileSync(knitds[0]!.logPath, 'utf8').split('\n').filter((l) => l.includes('Docker endpoint created')).map((l) => JSON.parse(l) as { options: string[]; labels: Record<string, string> });
    const mine = created.find((c) => c.labels.app === 'web');
    expect(mine?.options, JSON.stringify(created)).to.include.members(['knit.label.app', 'knit.label.tier']);
    console.log(`      (CreateEndpoint Options keys from dockerd: ${mine!.options.join(', ')})`);
    await dockerds[0]!.docker(['network', 'disconnect', 'green', 'r0']);
    await waitFor('r0\'s record on green gone', async () => !(await records()).some((r) => r.addresses.includes(ip)), 10_000);
    const recordsBefore = (await records()).map((r) => r.key).sort();
    const bad = await dockerds[0]!.dockerRun(['network', 'connect', '--driver-opt', 'knit.label.app=a/b', 'green', 'r0']);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.match(/knit\.label.*app.*label value/);
    // Nothing of the refused attachment: no interface on green in the container, no record.
    expect(await dockerds[0]!.docker(['exec', 'r0', 'ip', '-o', '-4', 'addr'])).to.not.match(/inet 10\.80\./);
    expect((await records()).map((r) => r.key).sort()).to.deep.equal(recordsBefore);
  });

  it('a container restart keeps working', async () => {
    await dockerds[2]!.docker(['restart', '-t', '1', 'r2']);
    const ip = (await dockerds[2]!.docker(['inspect', '-f', '{{(index .NetworkSettings.Networks "red").IPAddress}}', 'r2'])).trim();
    const r0 = ctrs.find((c) => c.name === 'r0')!;
    expect(await ping(r0, ip, 3), `r0 -> restarted r2 ${ip}`).to.equal(true);
    ctrs.find((c) => c.name === 'r2')!.ip = ip;
  });

  it('dockerd restart (live-restore) keeps running containers connected', async () => {
    await dockerds[1]!.restart();
    const r1 = ctrs.find((c) => c.name === 'r1')!;
    const r0 = ctrs.find((c) => c.name === 'r0')!;
    expect(await ping(r0, r1.ip, 3), 'r0 -> r1 after host 2\'s dockerd restarted').to.equal(true);
    expect(await ping(r1, r0.ip, 3), 'r1 -> r0 after its dockerd restarted').to.equal(true);
  });

  it('a dual-stack knit network is an IPv6 Docker network: containers on two hosts get an IPv6 address of their host\'s lease and reach each other over IPv6', async () => {
    await knitctl(['network', 'create', 'blue6', '--cidr', '10.90.0.0/16', '--ipv6-cidr', 'fd00:90::/56']);
    await waitFor('blue6 on dockerds 1 and 3', async () => {
      for (const d of [dockerds[0]!, dockerds[2]!]) {
        if (!(await d.docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('blue6')) return false;
      }
      return true;
    }, 30_000);
    const [net] = JSON.parse(await dockerds[0]!.docker(['network', 'inspect', 'blue6'])) as Array<{ EnableIPv6: boolean; IPAM: { Config: Array<{ Subnet: string; Gateway: string }> } }>;
    const detail = JSON.parse(await knitctl(['network', 'inspect', 'blue6', '-o', 'json'])) as { subnets: Array<{ subnet: string; ipv6Subnet?: string; node: string }> };
    const mine = detail.subnets.find((x) => x.node === 'node1')!;
    expect(net!.EnableIPv6).to.equal(true);
    expect(net!.IPAM.Config.map((c) => c.Subnet)).to.deep.equal([mine.subnet, mine.ipv6Subnet]);
    expect(net!.IPAM.Config[1]!.Gateway).to.equal(mine.ipv6Subnet!.replace(/::\/64$/, '::1'));
    await dockerds[0]!.docker(['run', '-d', '--name', 'b0', '--net', 'blue6', BUSYBOX_IMAGE, 'sleep', '3600']);
    await dockerds[2]!.docker(['run', '-d', '--name', 'b2', '--net', 'blue6', BUSYBOX_IMAGE, 'sleep', '3600']);
    const [ip0, ip2] = [await addr6(0, 'b0', 'blue6'), await addr6(2, 'b2', 'blue6')];
    expect(ip0).to.match(/^fd00:90:/);
    expect(ip2).to.match(/^fd00:90:/);
    const routes6 = await dockerds[0]!.docker(['exec', 'b0', 'ip', '-6', 'route']);
    expect(routes6, routes6).to.match(new RegExp(`default via ${net!.IPAM.Config[1]!.Gateway} `));
    expect(await ping({ name: 'b0', host: 0, network: 'blue6', ip: '' }, ip2, 3), `b0 -> b2 ${ip2} over IPv6`).to.equal(true);
    expect(await ping({ name: 'b2', host: 2, network: 'blue6', ip: '' }, ip0, 3), `b2 -> b0 ${ip0} over IPv6`).to.equal(true);
    // What dockerd 20.10 asked knit's IPAM for (node 1's knitd logs it at debug).
    const asked = readFileSync(knitds[0]!.logPath, 'utf8').split('\n').filter((l) => l.includes('IPAM pool requested') && l.includes('blue6')).map((l) => JSON.parse(l) as { pool?: string; v6: boolean });
    console.log(`      (RequestPool calls from dockerd for blue6: ${asked.map((a) => `${a.pool ?? '(none)'} V6=${String(a.v6)}`).join('; ')})`);
    expect(asked.some((a) => a.v6 && a.pool === mine.ipv6Subnet)).to.equal(true);
    const addrs = readFileSync(knitds[0]!.logPath, 'utf8').split('\n').filter((l) => l.includes('IPAM address requested') && l.includes('"blue6')).map((l) => JSON.parse(l) as { poolId: string; address?: string; gateway: boolean });
    console.log(`      (RequestAddress calls from dockerd for blue6: ${addrs.map((a) => `${a.poolId}${a.gateway ? ' gateway' : ''}${a.address ? ` ${a.address}` : ''}`).join('; ')})`);
    expect(addrs.filter((a) => a.poolId === 'blue6/ipv6' && !a.gateway)).to.have.length(1);
    blue.push({ name: 'b0', host: 0, network: 'blue6', ip: await addr4(0, 'b0', 'blue6'), ip6: ip0 }, { name: 'b2', host: 2, network: 'blue6', ip: await addr4(2, 'b2', 'blue6'), ip6: ip2 });
  });

  it('published ports on a dual-stack network: -p 8081:80 over IPv6 and IPv4 from another host, the node itself, a container on the same host (hairpin) and on another host; -p 0.0.0.0:8082:80 IPv4 only, -p [::]:8083:80 IPv6 only', async () => {
    await dockerds[0]!.docker(['run', '-d', '--name', 'web6', '--net', 'blue6', '-p', '8081:80', '-p', '0.0.0.0:8082:80', '-p', '[::]:8083:80', BUSYBOX_IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www']);
    // What dockerd 20.10 sends for these -p (node 1's knitd logs it at debug).
    const sent = readFileSync(knitds[0]!.logPath, 'utf8').split('\n').filter((l) => l.includes('Docker ports published')).map((l) => JSON.parse(l) as { ports: string });
    console.log(`      (ProgramExternalConnectivity port bindings from dockerd: ${sent.at(-1)?.ports ?? '(none logged)'})`);
    const [n1, n3] = [lab.nodes[0]!, lab.nodes[2]!];
    const addrs = { v6: n1.underlayIp6!, v4: n1.underlayIp };
    await waitFor('port 8081 from node3', async () => (await nodeGet(n3.ns, addrs.v4, 8081)).includes('knit'), 15_000);
    const fails: string[] = [];
    for (const [family, host] of Object.entries(addrs)) {
      if (!(await nodeGet(n3.ns, host, 8081)).includes('knit')) fails.push(`node3 -> ${host}:8081`);
      if (!(await nodeGet(n1.ns, host, 8081)).includes('knit')) fails.push(`node1 itself -> ${host}:8081`);
      for (const c of blue) if (!(await ctrGet(c, host, 8081)).includes('knit')) fails.push(`${c.name} on host ${c.host + 1} -> ${host}:8081 (${family})`);
    }
    expect(fails, 'published port not reached').to.deep.equal([]);
    // A host address of one family publishes on that family only, as dockerd's own bridge driver does.
    const reached = async (host: string, port: number): Promise<boolean> => (await nodeGet(n3.ns, host, port)).includes('knit');
    expect({
      '8082 v4': await reached(addrs.v4, 8082), '8082 v6': await reached(addrs.v6, 8082),
      '8083 v4': await reached(addrs.v4, 8083), '8083 v6': await reached(addrs.v6, 8083),
    }).to.deep.equal({ '8082 v4': true, '8082 v6': false, '8083 v4': false, '8083 v6': true });
    // ::1 cannot be DNATed (IPv6 has no route_localnet): refused with the reason, the other ports stay.
    const bad = await dockerds[0]!.dockerRun(['run', '-d', '--name', 'web6lo', '--net', 'blue6', '-p', '[::1]:8084:80', BUSYBOX_IMAGE, 'httpd', '-f', '-p', '80']);
    await dockerds[0]!.dockerRun(['rm', '-f', 'web6lo']);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.match(/::1 cannot be DNATed/);
    expect(await reached(addrs.v6, 8081), 'port 8081 over IPv6 after the refused ::1').to.equal(true);
  });

  it('dockerd restart (live-restore) keeps containers on a dual-stack network connected over IPv6 and IPv4, and their published port', async () => {
    await dockerds[0]!.restart();
    const [b0, b2] = [blue[0]!, blue[1]!];
    const fails: string[] = [];
    for (const [from, to] of [[b0, b2], [b2, b0]] as const) {
      for (const ip of [to.ip6!, to.ip]) if (!(await ping(from, ip, 3))) fails.push(`${from.name} -> ${to.name} ${ip}`);
    }
    for (const host of [lab.nodes[0]!.underlayIp6!, lab.nodes[0]!.underlayIp]) {
      if (!(await nodeGet(lab.nodes[2]!.ns, host, 8081)).includes('knit')) fails.push(`node3 -> ${host}:8081`);
    }
    expect(fails, 'after host 1\'s dockerd restarted').to.deep.equal([]);
  });

  it('docker network connect/disconnect of a running container to a dual-stack network gives it both addresses, then takes both away', async () => {
    const b2 = blue[1]!;
    await dockerds[0]!.docker(['network', 'connect', 'blue6', 'r0']);
    const [ip, ip6] = [await addr4(0, 'r0', 'blue6'), await addr6(0, 'r0', 'blue6')];
    expect(ip, 'IPv4 address on blue6').to.match(/^10\.90\./);
    expect(ip6, 'IPv6 address on blue6').to.match(/^fd00:90:/);
    const inside = await dockerds[0]!.docker(['exec', 'r0', 'ip', '-o', 'addr']);
    expect(inside).to.include(`inet ${ip}/`).and.to.include(`inet6 ${ip6}/`);
    const r0 = { name: 'r0', host: 0, network: 'blue6', ip };
    expect(await ping(r0, b2.ip6!, 2), `r0 -> b2 ${b2.ip6!} over IPv6`).to.equal(true);
    expect(await ping(r0, b2.ip, 2), `r0 -> b2 ${b2.ip}`).to.equal(true);
    expect(await ping(b2, ip6, 2), `b2 -> r0 ${ip6} over IPv6`).to.equal(true);
    // knit holds both: one endpoint record with both addresses, each in node 1's IPAM of its family.
    const k = knitds[0]!;
    const held = (a: string): boolean => (JSON.parse(readFileSync(join(k.stateDir, 'networks', 'blue6', a.includes(':') ? 'ipam6.json' : 'ipam.json'), 'utf8')) as { allocations: Array<{ ip: string }> })
      .allocations.some((x) => x.ip === a);
    const recorded = (): Array<{ address: string; ipv6Address?: string }> => k.endpoints().filter((e) => e.network === 'blue6' && e.address.startsWith(`${ip}/`));
    await waitFor('r0\'s blue6 addresses held by knit', async () => held(ip) && held(ip6) && recorded().length === 1, 10_000);
    expect(recorded()[0]!.ipv6Address).to.equal(`${ip6}/64`);
    await dockerds[0]!.docker(['network', 'disconnect', 'blue6', 'r0']);
    const after = await dockerds[0]!.docker(['exec', 'r0', 'ip', '-o', 'addr']);
    expect(after).to.not.include(`inet ${ip}/`).and.to.not.include(`inet6 ${ip6}/`);
    expect(await ping(b2, ip6, 1), `b2 -> r0's old ${ip6}`).to.equal(false);
    await waitFor('r0\'s blue6 addresses released', async () => !held(ip) && !held(ip6) && recorded().length === 0, 10_000);
  });

  it('the dual-stack network goes with its containers', async () => {
    // (r0 is off blue6 already unless the case before failed half-way)
    await dockerds[0]!.dockerRun(['network', 'disconnect', '-f', 'blue6', 'r0']);
    for (const [h, n] of [[0, 'b0'], [2, 'b2'], [0, 'web6']] as const) await dockerds[h]!.docker(['rm', '-f', n]);
    await waitFor('rm blue6 accepted', async () => knitctl(['network', 'rm', 'blue6']).then(() => true, () => false), 15_000);
  });

  it('knitctl network rm refuses while containers are attached; after they go, every host\'s Docker network goes too', async () => {
    const refused = await knitctl(['network', 'rm', 'green']).then(() => '', (e: Error) => e.message);
    expect(refused).to.match(/still has endpoints on node1 \(1\), node2 \(1\), node3 \(1\)/);
    for (const c of ctrs.filter((x) => x.network === 'green')) await dockerds[c.host]!.docker(['rm', '-f', c.name]);
    let last = '';
    await waitFor('rm accepted', async () => knitctl(['network', 'rm', 'green']).then(() => true, (e: Error) => { last = e.message; return false; }), 15_000, async () => last);
    await waitFor('green gone from every dockerd', async () => {
      for (const d of dockerds) {
        if ((await d.docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('green')) return false;
      }
      return true;
    }, 30_000);
  });
});
