/**
 * knit's layering, enforced (`npm run lint`, run by test/run.sh and so by CI).
 * The table below IS the "Modules and the direction of dependencies" section
 * of docs/architecture.md: a module of agent/src/ imports only from modules
 * of the rows below its own row, never from its own row or a row above.
 *
 * Adding a module: add its folder name to the row it belongs in (and to the
 * doc's table). A folder that is in no row is not blocked (it gets a warning
 * asking for a row), so work that adds a module is never failed by a rule it
 * could not know about; the cycle, index and plugin rules apply to it at once.
 */

/** Top row first. `main.ts` is the wiring root (a file, not a folder). */
const ROWS = [
  ['wiring', 'cli'],
  ['api', 'cni', 'backend', 'docker'],
  ['bgp', 'metrics'],
  ['subnet', 'ipam', 'dataplane', 'config'],
  ['store', 'netlink', 'policy'],
  ['persist', 'net', 'log', 'records'],
  ['base'],
];

/** Modules that are entered only through their index.ts from other modules. */
const INDEXED = ['api', 'backend', 'base', 'bgp', 'config', 'ipam', 'metrics', 'netlink', 'policy', 'records', 'store', 'subnet'];

const KNOWN = ROWS.flat();
const SRC = '^agent/src/';
const alt = (names) => `(${names.join('|')})`;

/** One rule per module: it may not import from its own row (other folders) or any row above. */
const layerRules = ROWS.flatMap((row, i) => row.map((mod) => {
  const forbidden = ROWS.slice(0, i + 1).flat().filter((m) => m !== mod);
  const below = ROWS.slice(i + 1).flat();
  return {
    name: `layer-${mod}`,
    comment: `${mod}/ (row ${i + 1} of docs/architecture.md) imports only from the rows below it: ${below.length ? below.map((m) => `${m}/`).join(', ') : 'Node built-ins only'}`,
    severity: 'error',
    from: { path: `${SRC}${mod}/` },
    to: { path: `${SRC}${alt(forbidden)}(/|\\.ts$)` },
  };
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-nothing-imports-main',
      comment: 'main.ts is the wiring root: no module imports it',
      severity: 'error',
      from: { path: SRC },
      to: { path: `${SRC}main\\.ts$` },
    },
    {
      name: 'base-imports-builtins-only',
      comment: 'base/ sits below every module: it imports only Node built-ins, its own files and cni-wire/ (the defaults the plugin shares)',
      severity: 'error',
      from: { path: `${SRC}base/` },
      to: { pathNot: [`${SRC}base/`, '^cni-wire/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'agent-never-imports-plugin',
      comment: 'knitd does not import the plugin\'s files: the contract both sides share is cni-wire/',
      severity: 'error',
      from: { path: SRC },
      to: { path: '^cni-plugin/' },
    },
    {
      name: 'cni-wire-imports-builtins-only',
      comment: 'cni-wire/ (the plugin <-> knitd protocol) is loaded by the plugin: Node built-ins and its own files only',
      severity: 'error',
      from: { path: '^cni-wire/' },
      to: { pathNot: ['^cni-wire/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-cycles',
      comment: 'no import cycles, between modules or between the files of one folder',
      severity: 'error',
      from: { path: '^(agent/src|cni-plugin/src|cni-wire)/' },
      to: { circular: true },
    },
    {
      name: 'enter-modules-through-index',
      comment: 'another module is entered through its index.ts (its public surface), never a file behind it',
      severity: 'error',
      from: { path: `${SRC}([^/]+)/` },
      to: {
        path: `${SRC}${alt(INDEXED)}/.+`,
        // api/gen (generated message types) and api/proto.ts: knitctl's client needs them without loading the server
        pathNot: [`${SRC}$1/`, `${SRC}[^/]+/index\\.ts$`, `${SRC}api/gen/`, `${SRC}api/proto\\.ts$`],
      },
    },
    {
      name: 'plugin-loads-builtins-only',
      comment: 'the knit CNI plugin loads only Node built-ins and its own files (start-up cost per CNI call)',
      severity: 'error',
      from: { path: '^cni-plugin/src/' },
      to: { pathNot: ['^cni-plugin/src/', '^cni-wire/'], dependencyTypesNot: ['core'] },
    },
    ...['unit', 'integration', 'e2e'].map((tier) => ({
      name: `test-tier-${tier}`,
      comment: `test/${tier}/ imports no helper from another tier's folder: shared helpers live in test/support/ (lab fixtures in test/lab/)`,
      severity: 'error',
      from: { path: `^test/${tier}/` },
      to: { path: `^test/(${['unit', 'integration', 'e2e'].filter((t) => t !== tier).join('|')})/` },
    })),
    {
      name: 'module-not-in-architecture-table',
      comment: 'this folder of agent/src is in no row of .dependency-cruiser.js and docs/architecture.md: add it to the row it belongs in',
      severity: 'warn',
      from: { path: `${SRC}(?!${alt(KNOWN)}/|main\\.ts$)` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json', '.node'] },
  },
};
