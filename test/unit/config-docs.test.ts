import { expect } from 'chai';
import { readFileSync } from 'fs';
import path from 'path';
import { FIELDS, helpRequested, helpText, REFERENCE_BEGIN, REFERENCE_END, renderConfigReference } from '../../agent/src/config';
import { envName, flagName } from '../../agent/src/config/schema';
import { replaceReference } from '../../agent/src/config/update-reference';

// dist/test/unit → repository root
const DOC = path.resolve(__dirname, '../../../docs/configuration.md');

describe('config reference docs', () => {
  it('docs/configuration.md holds exactly the generated reference (run update-reference.js after a schema change)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const begin = doc.indexOf(REFERENCE_BEGIN);
    const end = doc.indexOf(REFERENCE_END);
    expect(begin, 'begin marker').to.be.at.least(0);
    expect(end, 'end marker').to.be.greaterThan(begin);
    expect(doc.slice(begin + REFERENCE_BEGIN.length, end)).to.equal('\n' + renderConfigReference());
  });

  it('the reference has one row per field', () => {
    const rows = renderConfigReference().split('\n').filter((line) => line.startsWith('| `'));
    expect(FIELDS.length).to.be.greaterThan(25);
    expect(rows).to.have.length(FIELDS.length);
    for (const spec of FIELDS) {
      expect(rows.some((row) => row.startsWith(`| \`${spec.key}\` |`) && row.includes(`\`${spec.env}\``) && row.includes(`\`--${spec.flag}\``)), spec.key).to.equal(true);
    }
  });

  it('replaceReference rewrites only the generated part', () => {
    const doc = `intro\n${REFERENCE_BEGIN}\nstale\n${REFERENCE_END}\noutro\n`;
    expect(replaceReference(doc)).to.equal(`intro\n${REFERENCE_BEGIN}\n${renderConfigReference()}${REFERENCE_END}\noutro\n`);
    expect(() => replaceReference('no markers')).to.throw(/markers/);
  });
});

describe('config names and help', () => {
  const names: Array<[string, string, string]> = [
    ['nodeName', 'KNIT_NODE_NAME', 'node-name'],
    ['etcd.endpoints', 'KNIT_ETCD_ENDPOINTS', 'etcd-endpoints'],
    ['etcd.caFile', 'KNIT_ETCD_CA_FILE', 'etcd-ca-file'],
    ['grpc.tlsClientCaFile', 'KNIT_GRPC_TLS_CLIENT_CA_FILE', 'grpc-tls-client-ca-file'],
    ['etcd.leaseTtlSeconds', 'KNIT_ETCD_LEASE_TTL_SECONDS', 'etcd-lease-ttl-seconds'],
  ];
  for (const [key, env, flag] of names) {
    it(`${key} → ${env}, --${flag}`, () => {
      expect(envName(key)).to.equal(env);
      expect(flagName(key)).to.equal(flag);
    });
  }

  it('no two fields share an env var or a flag', () => {
    expect(new Set(FIELDS.map((f) => f.env)).size).to.equal(FIELDS.length);
    expect(new Set(FIELDS.map((f) => f.flag)).size).to.equal(FIELDS.length);
  });

  it('help lists every flag with its env var', () => {
    const help = helpText();
    expect(help).to.contain('--config <path>');
    for (const spec of FIELDS) {
      expect(help).to.contain(`--${spec.flag} `);
      expect(help).to.contain(`[env ${spec.env}]`);
    }
    expect(help).to.not.contain('`');
  });

  it('helpRequested recognises -h and --help only', () => {
    expect(helpRequested(['--help'])).to.equal(true);
    expect(helpRequested(['--bridge', 'x', '-h'])).to.equal(true);
    expect(helpRequested(['--bridge', 'help'])).to.equal(false);
  });
});
