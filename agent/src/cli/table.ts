/**
 * Aligned text tables for knitctl, kubectl-style: upper-case headers, columns
 * separated by three spaces, no borders, "<none>" for empty cells, so the
 * output reads well and still splits on whitespace in a pinch.
 */

/** One cell; empty strings and undefined render as "<none>" … unless the column allows blanks. */
export type Cell = string | number | boolean | undefined;

const GAP = '   ';

function cellText(c: Cell): string {
  if (c === undefined || c === '') return '<none>';
  if (typeof c === 'boolean') return c ? 'yes' : 'no';
  return String(c);
}

/** Display width, counting code points (enough for the ASCII and "…" knit prints). */
function width(s: string): number {
  return [...s].length;
}

/** Renders rows under headers; the last column is not padded (no trailing spaces). */
export function renderTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => headers.map((_, i) => cellText(r[i])));
  const widths = headers.map((h, i) => Math.max(width(h), ...text.map((r) => width(r[i]))));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - width(c)))).join(GAP).trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...text.map(line)].join('\n') + '\n';
}

/** "key: value" lines with the keys aligned (for `status`). */
export function renderFields(fields: Array<[string, Cell]>): string {
  const w = Math.max(...fields.map(([k]) => width(k)));
  return fields.map(([k, v]) => `${k}:${' '.repeat(w - width(k) + 1)}${cellText(v)}`).join('\n') + '\n';
}

/** "3h2m" style age of an RFC 3339 time relative to `now`; "" when the time is empty. */
export function age(rfc3339: string, now: Date): string {
  if (rfc3339 === '') return '';
  const t = Date.parse(rfc3339);
  if (Number.isNaN(t)) return rfc3339;
  let s = Math.round((now.getTime() - t) / 1000);
  const future = s < 0;
  s = Math.abs(s);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const text = d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s % 60}s` : `${s}s`;
  return future ? `in ${text}` : text;
}
