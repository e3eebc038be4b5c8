/**
 * Pure checks of single configuration values. Each returns a description of
 * the problem, or undefined when the value is fine, so the loader can wrap it
 * in a ConfigError that names the field and the source.
 */
import { parseCidr, parseIpv4 } from '../net/ipv4';
import { containerCidrProblem, notUnicastReason } from '../net/special-ranges';
import { formatIp, parseCidrAny, parseIp as parseIpAddress } from '../net/ip';
import { routerIdProblem } from '../net/router-id';

export type Check<T> = (value: T) => string | undefined;

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const HOST_NAME = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;

/** Node names end up in etcd keys and lease values: a Kubernetes-style DNS-1123 subdomain. */
export const nodeName: Check<string> = (value) => {
  if (value.length === 0 || value.length > 253) return 'must be 1..253 characters';
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return 'must be a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit';
  }
  return undefined;
};

/** A unicast IPv4 address (not unspecified, loopback, multicast or broadcast). */
export const unicastIpv4: Check<string> = (value) => {
  if (parseIpv4(value) === undefined) return 'must be an IPv4 address (a.b.c.d)';
  const why = notUnicastReason(value);
  return why === undefined ? undefined : `must be a unicast address: ${why}`;
};

/** A unicast IPv4 or IPv6 address (an IPv6-only cluster's nodes have IPv6 underlay addresses); link-local is no underlay. */
export const unicastIp: Check<string> = (value) => {
  const a = parseIpAddress(value);
  if (a === undefined) return 'must be an IPv4 address (a.b.c.d) or an IPv6 address';
  if (a.family === 4) return unicastIpv4(value);
  if (value !== formatIp(a)) return `must be written in canonical form (${formatIp(a)})`;
  const why = notUnicastReason(value) ?? containerCidrProblem(`${value}/128`);
  return why === undefined ? undefined : `must be a global unicast address: ${why}`;
};

/** A BGP Identifier: a dotted quad, not 0.0.0.0, multicast or broadcast (net/router-id.ts). */
export const routerId: Check<string> = (value) => routerIdProblem(value);

/** A Linux interface name, as the kernel's dev_valid_name accepts it. */
export const interfaceName: Check<string> = (value) => {
  if (value.length === 0 || value.length > 15) return 'must be an interface name of 1..15 characters';
  if (value === '.' || value === '..' || /[/:\s]/.test(value)) return 'must not be "." or ".." nor contain "/", ":" or white space';
  return undefined;
};

/** An absolute path (knitd's working directory is not something to rely on). */
export const absolutePath: Check<string> = (value) => {
  if (!value.startsWith('/')) return 'must be an absolute path';
  if (value.includes('\u0000')) return 'must not contain NUL';
  return undefined;
};

/** sun_path is 108 bytes including the terminating NUL. */
const MAX_UNIX_SOCKET_PATH = 107;

/** An absolute path short enough to bind a unix socket to. */
export const socketPath: Check<string> = (value) =>
  absolutePath(value) ??
  (Buffer.byteLength(value) > MAX_UNIX_SOCKET_PATH ? `must be at most ${MAX_UNIX_SOCKET_PATH} bytes (unix socket path limit)` : undefined);

/** A plain file name for the CNI conflist in cniConfDir. */
export const conflistFileName: Check<string> = (value) =>
  /^[A-Za-z0-9][A-Za-z0-9._-]*\.conflist$/.test(value) ? undefined : 'must be a file name (no "/") ending in .conflist';

/** A CNI network name, as libcni validates it. */
export const cniNetworkName: Check<string> = (value) =>
  /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value) ? undefined : 'must start with a letter or digit and contain only letters, digits, "_", "." and "-"';

/** An IPv4 CIDR with zero host bits and a prefix length within [min, max]. */
export function ipv4Cidr(min: number, max: number): Check<string> {
  return (value) => {
    if (!/^[0-9.]+\/[0-9]+$/.test(value) || parseIpv4(value.slice(0, value.indexOf('/'))) === undefined) {
      return 'must be an IPv4 CIDR like 10.244.1.0/24';
    }
    const cidr = parseCidr(value);
    if (cidr === undefined) return 'host bits must be zero (e.g. 10.244.1.0/24, not 10.244.1.5/24)';
    if (cidr.prefixLength < min || cidr.prefixLength > max) return `prefix length must be between ${min} and ${max}`;
    return undefined;
  };
}

/** A container subnet: an IPv4 CIDR as `ipv4Cidr` checks it, clear of loopback, multicast, link-local and the other special ranges. */
export function containerCidr(min: number, max: number): Check<string> {
  const shape = ipv4Cidr(min, max);
  return (value) => shape(value) ?? containerCidrProblem(value);
}

/** An IPv6 container subnet: canonical, zero host bits, prefix length within [min, max], clear of the special ranges. */
export function containerCidr6(min: number, max: number): Check<string> {
  return (value) => {
    const c = parseCidrAny(value);
    if (c === undefined || c.family !== 6) return 'must be an IPv6 CIDR with zero host bits, like fd00:10:244:1::/64';
    if (c.prefixLength < min || c.prefixLength > max) return `prefix length must be between ${min} and ${max}`;
    return containerCidrProblem(value);
  };
}

/** An etcd endpoint: http(s)://host:port with nothing else. */
export const etcdEndpoint: Check<string> = (value) => {
  const problem = 'must be a URL like https://10.0.0.1:2379 (http or https, host and port, no path)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return problem;
  if (url.hostname === '' || url.port === '' || url.username !== '' || url.password !== '') return problem;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') return problem;
  return undefined;
};

/** An etcd key prefix: "/a/b", no trailing slash, no empty segment. */
export const etcdPrefix: Check<string> = (value) =>
  /^(\/[A-Za-z0-9._-]+)+$/.test(value) ? undefined : 'must look like /knit/v1 (leading "/", no trailing "/", letters, digits, ".", "_", "-")';

/**
 * A TCP listen address host:port. host may be empty (all addresses), IPv4,
 * a [bracketed] IPv6 address or a DNS name.
 */
export const hostPort: Check<string> = (value) => {
  const problem = 'must be host:port (e.g. 127.0.0.1:9654, [::1]:9654 or :9654)';
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):([0-9]{1,5})$/.exec(value);
  if (match === null) return problem;
  const host = match[2];
  if (host !== undefined && host !== '' && parseIpv4(host) === undefined && (!HOST_NAME.test(host) || /^[0-9.]+$/.test(host))) {
    return problem;
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return 'port must be 1..65535';
  return undefined;
};

/** "" (disabled) or host:port. */
export const optionalHostPort: Check<string> = (value) => (value === '' ? undefined : hostPort(value));

/** One of a fixed set of words. */
export function oneOf(choices: readonly string[]): Check<string> {
  return (value) => (choices.includes(value) ? undefined : `must be one of ${choices.join(', ')}`);
}

/** An integer within [min, max]. */
export function intRange(min: number, max: number): Check<number> {
  return (value) => (value >= min && value <= max ? undefined : `must be between ${min} and ${max}`);
}
