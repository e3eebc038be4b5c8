import { expect } from 'chai';
import { causeMessages, describeError, FieldReader, hasErrorCode, isObject } from '../../agent/src/base';

describe('base: error chains and codes', () => {
  it('causeMessages walks the causes, outermost first, up to a depth', () => {
    const root = new Error('EEXIST');
    const mid = new Error('create veth', { cause: root });
    const top = new Error('ADD failed', { cause: mid });
    expect(causeMessages(top)).to.deep.equal(['ADD failed', 'create veth', 'EEXIST']);
    expect(causeMessages(top, 2)).to.deep.equal(['ADD failed', 'create veth']);
    expect(describeError(top)).to.equal('ADD failed: create veth: EEXIST');
    expect(describeError(new Error('x', { cause: 'plain string' }))).to.equal('x: plain string');
    expect(describeError(undefined)).to.equal('');
  });

  it('hasErrorCode recognises errno-coded errors and nothing else', () => {
    const enoent = Object.assign(new Error('gone'), { code: 'ENOENT' });
    expect(hasErrorCode(enoent)).to.equal(true);
    expect(hasErrorCode(enoent, 'ENODEV', 'ENOENT')).to.equal(true);
    expect(hasErrorCode(enoent, 'ENODEV')).to.equal(false);
    expect(hasErrorCode(Object.assign(new Error('n'), { code: 14 }))).to.equal(false);
    expect(hasErrorCode({ code: 'ENOENT' })).to.equal(false);
    expect(hasErrorCode(undefined)).to.equal(false);
  });
});

describe('base: FieldReader', () => {
  class BadField extends Error {}
  const r = new FieldReader((path, problem, value) => new BadField(`${path} ${problem}${value === undefined ? '' : ` (${JSON.stringify(value)})`}`));

  const cases: Array<{ name: string; run: () => unknown; error?: string; want?: unknown }> = [
    { name: 'optString absent', run: () => r.optString({}, 'a', ''), want: undefined },
    { name: 'optString wrong type names the nested path', run: () => r.optString({ a: 1 }, 'a', 'x.y'), error: 'x.y.a must be a string (1)' },
    { name: 'reqString empty', run: () => r.reqString({ a: '' }, 'a', ''), error: 'a is required' },
    { name: 'optInt in range', run: () => r.optInt({ mtu: 1500 }, 'mtu', '', 576, 65535), want: 1500 },
    { name: 'optInt out of range', run: () => r.optInt({ mtu: 9 }, 'mtu', '', 576, 65535), error: 'mtu must be an integer from 576 to 65535 (9)' },
    { name: 'optBool', run: () => r.optBool({ b: 'yes' }, 'b', ''), error: 'b must be true or false ("yes")' },
    { name: 'optStringList item path', run: () => r.optStringList({ l: ['a', 2] }, 'l', 'p'), error: 'p.l[1] must be a string (2)' },
    { name: 'optIp', run: () => r.optIp({ gw: '10.0.0.300' }, 'gw', 'routes[0]'), error: 'routes[0].gw must be an IP address ("10.0.0.300")' },
    { name: 'reqCidr v6', run: () => r.reqCidr({ c: 'fd00::/64' }, 'c', ''), want: 'fd00::/64' },
    { name: 'reqCidr bad length', run: () => r.reqCidr({ c: '10.0.0.0/33' }, 'c', ''), error: 'c must be an address in CIDR notation ("10.0.0.0/33")' },
    { name: 'expectObject refuses arrays', run: () => r.expectObject([], 'o'), error: 'o must be an object ([])' },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      if (tc.error === undefined) {
        expect(tc.run()).to.deep.equal(tc.want);
        return;
      }
      expect(tc.run).to.throw(BadField, tc.error);
    });
  }

  it('isObject accepts plain objects only', () => {
    expect([isObject({}), isObject([]), isObject(null), isObject('s')]).to.deep.equal([true, false, false, false]);
  });
});
