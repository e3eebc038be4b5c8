import { expect } from 'chai';
import { age, renderFields, renderTable } from '../../agent/src/cli/table';

describe('knitctl tables', () => {
  it('aligns columns under upper-case headers with three-space gaps and no trailing spaces', () => {
    const out = renderTable(['subnet', 'node', 'own'], [['10.244.1.0/24', 'node-a', true], ['10.244.20.0/24', 'b', false]]);
    expect(out).to.equal(
      'SUBNET           NODE     OWN\n' +
      '10.244.1.0/24    node-a   yes\n' +
      '10.244.20.0/24   b        no\n',
    );
    for (const line of out.split('\n')) expect(line).to.equal(line.trimEnd());
  });

  it('shows <none> for empty and missing cells and keeps the header alone for no rows', () => {
    expect(renderTable(['a', 'b'], [['', undefined]])).to.equal('A        B\n<none>   <none>\n');
    expect(renderTable(['name', 'value'], [])).to.equal('NAME   VALUE\n');
  });

  it('pads by characters, not bytes', () => {
    const out = renderTable(['x', 'y'], [['a…', 1], ['abc', 2]]);
    expect(out.split('\n')[1]).to.equal('a…    1');
  });

  it('aligns key: value fields', () => {
    expect(renderFields([['Node', 'a'], ['Public IP', '1.2.3.4'], ['MTU', 0]])).to.equal('Node:      a\nPublic IP: 1.2.3.4\nMTU:       0\n');
  });

  const now = new Date('2026-01-02T00:00:00Z');
  const ages: Array<[string, string]> = [
    ['2026-01-02T00:00:00Z', '0s'],
    ['2026-01-01T23:59:15Z', '45s'],
    ['2026-01-01T23:58:00Z', '2m0s'],
    ['2026-01-01T21:30:00Z', '2h30m'],
    ['2025-12-30T22:00:00Z', '2d2h'],
    ['2026-01-02T01:00:00Z', 'in 1h0m'],
    ['', ''],
    ['garbage', 'garbage'],
  ];
  for (const [t, want] of ages) it(`age(${JSON.stringify(t)}) = ${JSON.stringify(want)}`, () => expect(age(t, now)).to.equal(want));
});
