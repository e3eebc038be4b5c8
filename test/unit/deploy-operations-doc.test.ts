/**
 * docs/operations.md lists every metric knitd exports (read from a real
 * registry, so a new metric without a row fails here) and only those.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKnitMetrics } from '../../agent/src/metrics';

describe('docs/operations.md metrics table', () => {
  it('has one row per knit_* metric of the registry, and no row for a metric that does not exist', async () => {
    const text = await createKnitMetrics({ processMetrics: false }).render();
    const exported = [...text.matchAll(/^# TYPE (knit_\w+) /gm)].map((m) => m[1]!).sort();
    expect(exported.length, 'metrics found in the registry').to.be.greaterThan(10);
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'operations.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(knit_\w+)` \|/gm)].map((m) => m[1]!).sort();
    expect(documented).to.deep.equal(exported);
  });
});
