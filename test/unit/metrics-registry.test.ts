import { expect } from 'chai';
import { createKnitMetrics } from '../../agent/src/metrics';
import { parsePrometheusText, sampleValue } from '../support/metrics-text-parser';

describe('metrics text parser (self-check)', () => {
  const bad: Array<[string, string]> = [
    ['sample before TYPE', 'x 1\n'],
    ['bad value', '# HELP x h\n# TYPE x gauge\nx one\n'],
    ['unquoted label', '# HELP x h\n# TYPE x gauge\nx{a=b} 1\n'],
    ['non-cumulative histogram', '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['no trailing newline', '# HELP x h\n# TYPE x gauge\nx 1'],
    ['negative counter', '# HELP c h\n# TYPE c counter\nc -1\n'],
  ];
  for (const [name, text] of bad) it(`rejects ${name}`, () => expect(() => parsePrometheusText(text)).to.throw());
  it('accepts escapes and special values', () => {
    const f = parsePrometheusText('# HELP x h\n# TYPE x gauge\nx{a="q\\"\\n\\\\"} +Inf\nx NaN\n');
    expect(f.get('x')?.samples[0].labels.a).to.equal('q"\n\\');
  });
});

describe('knit metrics registry', () => {
  const expected: Array<[string, string]> = [
    ['knit_leases_held', 'gauge'], ['knit_leases_known', 'gauge'], ['knit_peers_programmed', 'gauge'], ['knit_peers_alive', 'gauge'], ['knit_lease_remaining_seconds', 'gauge'], ['knit_lease_last_renewal_timestamp_seconds', 'gauge'],
    ['knit_reconcile_runs_total', 'counter'], ['knit_reconcile_duration_seconds', 'histogram'],
    ['knit_netlink_operations_total', 'counter'], ['knit_netlink_errors_total', 'counter'],
    ['knit_cni_requests_total', 'counter'], ['knit_cni_request_duration_seconds', 'histogram'],
    ['knit_cni_attachments_reaped_total', 'counter'], ['knit_cni_connections_refused_total', 'counter'],
    ['knit_ipam_addresses_used', 'gauge'], ['knit_ipam_addresses_free', 'gauge'],
    ['knit_etcd_errors_total', 'counter'], ['knit_etcd_watch_restarts_total', 'counter'], ['knit_invalid_leases_skipped_total', 'counter'],
    ['knit_bgp_sessions', 'gauge'], ['knit_bgp_prefixes', 'gauge'], ['knit_bgp_prefixes_rejected', 'gauge'], ['knit_bgp_max_prefix_hits', 'gauge'],
    ['knit_api_requests_total', 'counter'], ['knit_api_watchers', 'gauge'], ['knit_api_watch_drops_total', 'counter'],
    ['knit_build_info', 'gauge'],
  ];

  it('exports every knit_ family with HELP and TYPE, in valid text format, plus process metrics', async () => {
    const reg = createKnitMetrics({ version: '0.1.0' });
    const fams = parsePrometheusText(await reg.render());
    for (const [name, type] of expected) {
      expect(fams.get(name)?.type, name).to.equal(type);
      expect(fams.get(name)?.help, name).to.not.equal('');
    }
    expect([...fams.keys()].filter((n) => n.startsWith('knit_')).sort()).to.deep.equal(expected.map(([n]) => n).sort());
    expect(fams.has('process_cpu_user_seconds_total')).to.equal(true);
    expect(sampleValue(fams, 'knit_build_info', { version: '0.1.0', node: process.versions.node })).to.equal(1);
    expect(reg.contentType).to.match(/^text\/plain; version=0\.0\.4/);
  });

  it('counters, gauges and histograms move when used through the typed members', async () => {
    const reg = createKnitMetrics({ processMetrics: false });
    const m = reg.metrics;
    m.cniRequests.inc({ command: 'ADD', result: 'ok' });
    m.cniRequests.inc({ command: 'ADD', result: 'ok' });
    m.cniRequests.inc({ command: 'DEL', result: '7' });
    m.cniRequestDuration.observe({ command: 'ADD' }, 0.004);
    m.cniRequestDuration.observe({ command: 'ADD' }, 0.3);
    m.netlinkErrors.inc({ op: 'route_replace', code: 'EEXIST' });
    m.leasesKnown.set(3);
    m.ipamAddressesUsed.set(5);
    m.ipamAddressesFree.set(248);
    m.bgpSessions.set({ state: 'Established' }, 2);
    m.bgpPrefixes.set({ peer: '10.0.0.1', direction: 'received' }, 12);
    m.invalidLeasesSkipped.inc();
    const end = m.reconcileDuration.startTimer({ backend: 'vxlan' });
    end();
    m.reconcileRuns.inc({ backend: 'vxlan', result: 'ok' });
    const fams = parsePrometheusText(await reg.render());
    expect(sampleValue(fams, 'knit_cni_requests_total', { command: 'ADD', result: 'ok' })).to.equal(2);
    expect(sampleValue(fams, 'knit_cni_requests_total', { command: 'DEL', result: '7' })).to.equal(1);
    expect(sampleValue(fams, 'knit_cni_request_duration_seconds_count', { command: 'ADD' })).to.equal(2);
    expect(sampleValue(fams, 'knit_cni_request_duration_seconds_bucket', { command: 'ADD', le: '0.005' })).to.equal(1);
    expect(sampleValue(fams, 'knit_cni_request_duration_seconds_sum', { command: 'ADD' })).to.be.closeTo(0.304, 1e-9);
    expect(sampleValue(fams, 'knit_netlink_errors_total', { op: 'route_replace', code: 'EEXIST' })).to.equal(1);
    expect(sampleValue(fams, 'knit_leases_known')).to.equal(3);
    expect(sampleValue(fams, 'knit_ipam_addresses_free')).to.equal(248);
    expect(sampleValue(fams, 'knit_bgp_sessions', { state: 'Established' })).to.equal(2);
    expect(sampleValue(fams, 'knit_bgp_prefixes', { peer: '10.0.0.1', direction: 'received' })).to.equal(12);
    expect(sampleValue(fams, 'knit_invalid_leases_skipped_total')).to.equal(1);
    expect(sampleValue(fams, 'knit_reconcile_duration_seconds_count', { backend: 'vxlan' })).to.equal(1);
    expect(sampleValue(fams, 'knit_reconcile_runs_total', { backend: 'vxlan', result: 'ok' })).to.equal(1);
    expect(fams.has('process_cpu_user_seconds_total')).to.equal(false);
  });

  it('two registries do not share state (one per knitd, one per test)', async () => {
    const a = createKnitMetrics({ processMetrics: false });
    const b = createKnitMetrics({ processMetrics: false });
    a.metrics.etcdWatchRestarts.inc();
    expect(sampleValue(parsePrometheusText(await b.render()), 'knit_etcd_watch_restarts_total')).to.equal(0);
  });
});
