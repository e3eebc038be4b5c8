/**
 * Rewrites the generated part of docs/configuration.md from the schema:
 *   npx tsc -p . && node dist/agent/src/config/update-reference.js docs/configuration.md
 * The unit test test/unit/config-docs.test.ts fails until this has been run
 * after a schema change.
 */
import { readFileSync, writeFileSync } from 'fs';
import { REFERENCE_BEGIN, REFERENCE_END, renderConfigReference } from './reference';

/** Returns `doc` with the text between the markers replaced by the current reference. */
export function replaceReference(doc: string): string {
  const begin = doc.indexOf(REFERENCE_BEGIN);
  const end = doc.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error(`the document lacks the markers ${REFERENCE_BEGIN} … ${REFERENCE_END}`);
  return doc.slice(0, begin + REFERENCE_BEGIN.length) + '\n' + renderConfigReference() + doc.slice(end);
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: update-reference <docs/configuration.md>\n');
    process.exit(2);
  }
  writeFileSync(file, replaceReference(readFileSync(file, 'utf8')));
}
