/**
 * Command line of the local-cluster demo (`bash demo/run.sh [options]`).
 * Pure: parsed from argv and env so every rule is unit-tested without root.
 */

/** Backends the demo can bring up. */
export const DEMO_BACKENDS = ['vxlan', 'host-gw', 'ipip'] as const;
/** One of DEMO_BACKENDS. */
export type DemoBackend = (typeof DEMO_BACKENDS)[number];

/** What the user asked for. */
export interface DemoArgs {
  /** 'up' brings a cluster up; 'down' removes a kept one; 'help' prints usage. */
  action: 'up' | 'down' | 'help';
  backend: DemoBackend;
  nodes: number;
  containers: number;
  /** Leave the cluster running after the report. */
  keep: boolean;
  /** Dual-stack: IPv6 on the underlay and a dual-stack network; the ping matrix covers both families. */
  dualStack: boolean;
  /** IPv6-only: an IPv6 network over the IPv6 underlay; containers get IPv6 only. */
  ipv6Only: boolean;
}

/** Where the demo keeps its files and how it names kernel objects. */
export interface DemoPlace {
  /** Prefix of every namespace and link (default "kdemo-"). */
  prefix: string;
  /** Directory of the state file, etcd data, knitd dirs and logs (default /run/knit-demo). */
  dir: string;
}

/** Largest cluster the naming scheme (15-char interface and netns names) and one /24 underlay allow. */
export const MAX_NODES = 9;
export const MAX_CONTAINERS = 20;

/** Usage text; `cmd` is how the user invoked the demo. */
export function usage(cmd: string): string {
  return [
    `Usage: ${cmd} [--backend vxlan|host-gw|ipip] [--nodes N] [--containers M] [--dual-stack | --ipv6-only] [--keep]`,
    `       ${cmd} --down`,
    '',
    'Brings up a local knit cluster in network namespaces: a real etcd, N nodes each',
    'running knitd (cluster mode), M containers per node attached through the real',
    '`knit` CNI plugin; prints subnets, container IPs, a connectivity matrix and',
    '`knitctl status`, then removes everything (unless --keep).',
    '',
    `  --backend B      dataplane between nodes (default vxlan)`,
    `  --nodes N        nodes, 1..${MAX_NODES} (default 3)`,
    `  --containers M   containers per node, 1..${MAX_CONTAINERS} (default 2)`,
    '  --dual-stack     IPv4 and IPv6: every container gets both, the ping matrix covers both (vxlan, host-gw)',
    '  --ipv6-only      IPv6 only: the nodes reach each other over IPv6, containers get IPv6 only (vxlan, host-gw)',
    '  --keep           leave the cluster running and print how to explore it',
    '  --down           remove a cluster left running by --keep',
    '  -h, --help       this text',
    '',
  ].join('\n');
}

function intOption(name: string, value: string | undefined, max: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${name} needs a whole number, got ${value ?? 'nothing'}`);
  const n = Number(value);
  if (n < 1 || n > max) throw new Error(`${name} must be 1..${max}, got ${n}`);
  return n;
}

/** Parses the demo's arguments; throws an Error with a one-line message on bad input. */
export function parseDemoArgs(argv: string[]): DemoArgs {
  const args: DemoArgs = { action: 'up', backend: 'vxlan', nodes: 3, containers: 2, keep: false, dualStack: false, ipv6Only: false };
  let down = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const [flag, inline] = raw.startsWith('--') && eq > 0 ? [raw.slice(0, eq), raw.slice(eq + 1)] : [raw, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '-h':
      case '--help':
        return { ...args, action: 'help' };
      case '--backend': {
        const b = value();
        if (!DEMO_BACKENDS.includes(b as DemoBackend)) throw new Error(`--backend must be one of ${DEMO_BACKENDS.join(', ')}, got ${b ?? 'nothing'}`);
        args.backend = b as DemoBackend;
        break;
      }
      case '--nodes':
        args.nodes = intOption('--nodes', value(), MAX_NODES);
        break;
      case '--containers':
        args.containers = intOption('--containers', value(), MAX_CONTAINERS);
        break;
      case '--dual-stack':
        args.dualStack = true;
        break;
      case '--ipv6-only':
        args.ipv6Only = true;
        break;
      case '--keep':
        args.keep = true;
        break;
      case '--down':
        down = true;
        break;
      default:
        throw new Error(`unknown argument ${raw}`);
    }
  }
  if (down) {
    if (argv.length !== 1) throw new Error('--down takes no other options');
    return { ...args, action: 'down' };
  }
  if (args.dualStack && args.ipv6Only) throw new Error('--dual-stack and --ipv6-only: pick one');
  if (args.dualStack && args.backend === 'ipip') throw new Error('--dual-stack needs --backend vxlan or host-gw (ipip carries IPv4 only)');
  if (args.ipv6Only && args.backend === 'ipip') throw new Error('--ipv6-only needs --backend vxlan or host-gw (ipip carries IPv4 only)');
  return args;
}

/**
 * The demo's prefix and directory: KNIT_DEMO_PREFIX and KNIT_DEMO_DIR let a
 * test run its own demo next to a user's kept one. The prefix must leave room
 * for the longest suffix ("n9c20") inside 15 characters.
 */
export function demoPlace(env: Record<string, string | undefined>): DemoPlace {
  const prefix = env.KNIT_DEMO_PREFIX ?? 'kdemo-';
  if (!/^[a-z0-9][a-z0-9-]{0,9}$/.test(prefix)) {
    throw new Error(`KNIT_DEMO_PREFIX ${prefix}: 1..10 characters of a-z, 0-9 and '-'`);
  }
  const dir = env.KNIT_DEMO_DIR ?? '/run/knit-demo';
  if (!dir.startsWith('/')) throw new Error(`KNIT_DEMO_DIR ${dir}: must be an absolute path`);
  return { prefix, dir };
}
