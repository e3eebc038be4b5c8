/**
 * The layering rules (.dependency-cruiser.js, `npm run lint`) fail what they
 * must and pass what they must: each case writes a tiny tree of stub modules
 * into a temporary directory and runs the real depcruise CLI with knit's
 * config over it.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.js');

const stub = 'export const x = 1;\n';

interface Outcome {
  code: number;
  out: string;
}

function lint(files: Record<string, string>): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'knit-lint-'));
  for (const [path, text] of Object.entries({ 'cni-plugin/src/main.ts': stub, 'cni-wire/protocol.ts': stub, 'test/support/wait.ts': stub, ...files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, 'tsconfig.json'), '{"compilerOptions":{"module":"commonjs","strict":true}}');
  return new Promise((done) => {
    execFile(DEPCRUISE, ['agent/src', 'cni-plugin/src', 'cni-wire', 'test', '--config', CONFIG, '--output-type', 'err-long'], { cwd: dir }, (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      done({ code, out: stdout + stderr });
    });
  });
}

describe('lint: layering rules (dependency-cruiser)', function () {
  this.timeout(60_000);

  // One tree holding every kind of violation (each in folders of its own), linted once.
  const violations: Array<{ name: string; files: Record<string, string>; rule: string; says?: string }> = [
    {
      name: 'a netlink/ file that imports wiring/ fails, naming the rule and what netlink/ may import',
      files: { 'agent/src/wiring/cluster.ts': stub, 'agent/src/netlink/links.ts': "import { x } from '../wiring/cluster';\nexport const y = x;\n" },
      rule: 'layer-netlink', says: 'netlink/ (row 5 of docs/architecture.md) imports only from the rows below',
    },
    {
      name: 'a sideways import within one row fails (store/ → netlink/)',
      files: { 'agent/src/netlink/index.ts': stub, 'agent/src/store/registry.ts': "import { x } from '../netlink';\nexport const y = x;\n" },
      rule: 'layer-store',
    },
    {
      name: 'two files of one folder that import each other fail',
      files: {
        'agent/src/ipam/a.ts': "import { b } from './b';\nexport const a = (): number => b() + 1;\n",
        'agent/src/ipam/b.ts': "import { a } from './a';\nexport const b = (): number => a() - 1;\n",
      },
      rule: 'no-cycles',
    },
    {
      name: 'a file behind another module\'s index.ts fails (subnet/ → store/network-config.ts)',
      files: { 'agent/src/store/index.ts': stub, 'agent/src/store/network-config.ts': stub, 'agent/src/subnet/m.ts': "import { x } from '../store/network-config';\nexport const y = x;\n" },
      rule: 'enter-modules-through-index',
    },
    {
      name: 'base/ importing any module fails',
      files: { 'agent/src/log/logger.ts': stub, 'agent/src/base/clock.ts': "import { x } from '../log/logger';\nexport const y = x;\n" },
      rule: 'layer-base',
    },
    {
      name: 'knitd importing a plugin file fails (the shared contract is cni-wire/)',
      files: { 'cni-plugin/src/forward.ts': stub, 'agent/src/cni/dispatch.ts': "import { x } from '../../../cni-plugin/src/forward';\nexport const y = x;\n" },
      rule: 'agent-never-imports-plugin',
    },
    {
      name: 'cni-wire/ importing anything but built-ins fails',
      files: { 'agent/src/log/index.ts': stub, 'cni-wire/spec.ts': "import { x } from '../agent/src/log';\nexport const y = x;\n" },
      rule: 'cni-wire-imports-builtins-only',
    },
    {
      name: 'a unit test importing a helper from the integration tier fails (shared helpers live in test/support/)',
      files: { 'test/integration/harness.ts': stub, 'test/unit/a.test.ts': "import { x } from '../integration/harness';\nexport const y = x;\n" },
      rule: 'test-tier-unit',
    },
    {
      name: 'the plugin importing an agent file fails',
      files: { 'agent/src/base/index.ts': stub, 'cni-plugin/src/main.ts': "import { x } from '../../agent/src/base';\nexport const y = x;\n" },
      rule: 'plugin-loads-builtins-only',
    },
  ];
  let bad: Outcome;
  before(async () => {
    bad = await lint(Object.assign({}, ...violations.map((v) => v.files)) as Record<string, string>);
  });

  it('a tree with violations fails the lint', () => {
    expect(bad.code, bad.out).to.not.equal(0);
  });
  for (const v of violations) {
    it(v.name, () => {
      expect(bad.out).to.contain(`error ${v.rule}:`);
      if (v.says !== undefined) expect(bad.out.replace(/\s+/g, ' ')).to.contain(v.says);
    });
  }

  it('downward imports through index.ts pass; a new module in no row is only warned about, never failed', async () => {
    const r = await lint({
      'agent/src/base/index.ts': stub,
      'agent/src/store/index.ts': "import { x } from '../base';\nexport const s = x;\n",
      'agent/src/cni/handlers.ts': "import { s } from '../store';\nexport const h = s;\n",
      'agent/src/newmod/driver.ts': "import { h } from '../cni/handlers';\nimport { s } from '../store';\nexport const d = h + s;\n",
      'agent/src/cni/errors.ts': "import { p } from '../../../cni-wire/protocol';\nexport const e = p;\n",
      'cni-plugin/src/main.ts': "import { createConnection } from 'node:net';\nimport { p } from '../../cni-wire/protocol';\nexport const m = [createConnection, p];\n",
      'cni-wire/protocol.ts': 'export const p = 1;\n',
      'test/unit/b.test.ts': "import { x } from '../support/wait';\nimport { p } from '../../cni-wire/protocol';\nexport const t = x + p;\n",
    });
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain('warn module-not-in-architecture-table: agent/src/newmod/driver.ts');
    expect(r.out).to.not.contain('error ');
  });
});
