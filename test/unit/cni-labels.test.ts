import { expect } from 'chai';
import { CniError } from '../../agent/src/cni/errors';
import { endpointLabels } from '../../agent/src/cni/labels';

const conf = (labels: unknown) => ({ args: { cni: { labels } } });

describe('cni: endpoint labels (args.cni.labels, K8S_POD_NAMESPACE/K8S_POD_NAME)', () => {
  it('takes the CNI convention list and the Kubernetes CNI_ARGS', () => {
    expect(endpointLabels(conf([{ key: 'app', value: 'web' }, { key: 'example.com/tier', value: 'front' }]), { K8S_POD_NAMESPACE: 'prod', K8S_POD_NAME: 'web-1', IgnoreUnknown: '1' }))
      .to.deep.equal({ app: 'web', 'example.com/tier': 'front', 'k8s.namespace': 'prod', 'k8s.pod': 'web-1' });
    expect(endpointLabels({}, {})).to.deep.equal({});
    expect(endpointLabels({ args: { other: 1 } }, {})).to.deep.equal({});
  });

  it('leaves out a pod name no label value can hold (longer than 63), rather than failing the pod', () => {
    expect(endpointLabels({}, { K8S_POD_NAME: `a${'b'.repeat(70)}` })).to.deep.equal({});
  });

  const bad: Array<[string, Parameters<typeof endpointLabels>[0], Record<string, string>, number, RegExp]> = [
    ['labels not a list', conf({ app: 'web' }), {}, 7, /args\.cni\.labels must be a list/],
    ['an entry without value', conf([{ key: 'app' }]), {}, 7, /args\.cni\.labels\[0\] must be \{"key": "\.\.\.", "value": "\.\.\."\}/],
    ['an extra field', conf([{ key: 'app', value: 'x', op: 'In' }]), {}, 7, /args\.cni\.labels\[0\]/],
    ['a key twice', conf([{ key: 'app', value: 'a' }, { key: 'app', value: 'b' }]), {}, 7, /label "app" is given twice/],
    ['an invalid key', conf([{ key: 'bad key!', value: 'x' }]), {}, 7, /args\.cni\.labels\.bad key!: invalid label key/],
    ['a value with a slash', conf([{ key: 'app', value: 'a/b' }]), {}, 7, /label value must be/],
    ['a namespace that is no name', {}, { K8S_POD_NAMESPACE: 'x;rm' }, 4, /K8S_POD_NAMESPACE "x;rm" is not a Kubernetes namespace name/],
  ];
  for (const [name, c, args, code, match] of bad) {
    it(`refuses ${name} with code ${code}`, () => {
      try {
        endpointLabels(c, args);
        expect.fail('accepted');
      } catch (err) {
        expect(err).to.be.instanceOf(CniError);
        expect((err as CniError).code).to.equal(code);
        expect((err as CniError).message).to.match(match);
      }
    });
  }
});
