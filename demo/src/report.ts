/**
 * What the demo prints: tables of nodes and containers and the connectivity
 * matrix. Pure functions over plain data, unit-tested without a cluster.
 */

/** A row of the node table. */
export interface NodeRow { name: string; ns: string; ip: string; subnet: string; backend: string; mtu: string }
/** A row of the container table. */
export interface ContainerRow { name: string; node: string; ip: string }
/** The matrix: cells[from][to] (undefined on the diagonal). */
export interface Matrix {
  labels: string[];
  cells: Array<Array<{ pass: boolean; rttMs?: number } | undefined>>;
}

/** Left-aligned columns with a header row. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The node table. */
export function renderNodes(rows: NodeRow[]): string {
  return renderTable(['NODE', 'NETNS', 'UNDERLAY IP', 'SUBNET', 'BACKEND', 'MTU'], rows.map((r) => [r.name, r.ns, r.ip, r.subnet, r.backend, r.mtu]));
}

/** The container table. */
export function renderContainers(rows: ContainerRow[]): string {
  return renderTable(['CONTAINER (NETNS)', 'NODE', 'IP'], rows.map((r) => [r.name, r.node, r.ip]));
}

/** One matrix cell: "-" on the diagonal, the RTT ("0.123ms") on success, "FAIL" otherwise. */
export function cellText(cell: { pass: boolean; rttMs?: number } | undefined): string {
  if (cell === undefined) return '-';
  if (!cell.pass) return 'FAIL';
  return cell.rttMs === undefined ? 'ok' : `${cell.rttMs.toFixed(3)}ms`;
}

/** Pairs that passed and pairs tested (the diagonal is not a pair). */
export function matrixSummary(m: Matrix): { passed: number; total: number } {
  let passed = 0;
  let total = 0;
  for (const row of m.cells) {
    for (const c of row) {
      if (c === undefined) continue;
      total += 1;
      if (c.pass) passed += 1;
    }
  }
  return { passed, total };
}

/**
 * The matrix as a table (rows: from, columns: to) and a summary line
 * "connectivity: 30/30 pairs pass" that scripts and the e2e test read.
 */
export function renderMatrix(m: Matrix): string {
  const rows = m.labels.map((from, i) => [from, ...m.cells[i]!.map(cellText)]);
  const { passed, total } = matrixSummary(m);
  const verdict = passed === total ? 'pass' : `pass, ${total - passed} FAIL`;
  return `${renderTable(['FROM \\ TO', ...m.labels], rows)}\n\nconnectivity: ${passed}/${total} pairs ${verdict}`;
}
