/**
 * knit's version (package.json's, read once) and the API version. Every entry point (knitd,
 * knitctl, the demo) reports this one string, so they can never disagree.
 * Compiled, this file is dist/agent/src/base/version.js: four levels below
 * the repository root.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  try {
    const v = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' && v !== '' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** e.g. "0.1.0"; "unknown" when package.json cannot be read (an odd install). */
export const KNIT_VERSION: string = readVersion();

/**
 * The operator API's version (the proto package, proto/knit/v1): what
 * Node.versions.api reports and knitctl compares with its own.
 */
export const API_VERSION = 'knit.v1';
