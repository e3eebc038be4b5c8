/**
 * writeFileAtomic through the real file system: the native one-job replace
 * (knit_netns durableReplace) and the step-by-step path give the same file,
 * mode and errors, and leave no temporary file behind.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { loadNativeAddon } from '../../agent/src/base';
import { nodeStateFs, writeFileAtomic, type StateFs } from '../../agent/src/persist/atomic-file';

const steps: StateFs = { ...nodeStateFs, replace: undefined };

async function failure(p: Promise<unknown>): Promise<Error & { cause?: { code?: string; path?: string } }> {
  return p.then(() => { throw new Error('expected a failure'); }, (e: Error & { cause?: { code?: string } }) => e);
}

describe('writeFileAtomic on the real file system', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'knit-atomic-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the native addon has the one-job replace', () => {
    const addon = loadNativeAddon<{ durableReplace?: unknown }>('knit_netns');
    expect(addon.durableReplace).to.be.a('function');
  });

  for (const [name, fs] of [['native', nodeStateFs], ['steps', steps]] as const) {
    describe(name, () => {
      it('replaces the file with mode 0600 by default and leaves no temporary file', async () => {
        const file = path.join(dir, 'state.json');
        writeFileSync(file, 'old');
        await writeFileAtomic(fs, file, '{"v":1}\n');
        expect(readFileSync(file, 'utf8')).to.equal('{"v":1}\n');
        expect(statSync(file).mode & 0o777).to.equal(0o600);
        expect(readdirSync(dir)).to.deep.equal(['state.json']);
      });

      it('writes a large file whole', async () => {
        const file = path.join(dir, 'big.json');
        const data = 'x'.repeat(3 << 20);
        await writeFileAtomic(fs, file, data, 0o640);
        expect(readFileSync(file, 'utf8')).to.equal(data);
        expect(statSync(file).mode & 0o777).to.equal(0o640 & ~process.umask());
      });

      it('a missing directory: the error names the file and its cause, nothing is created', async () => {
        const file = path.join(dir, 'nodir', 'state.json');
        const err = await failure(writeFileAtomic(fs, file, 'x'));
        expect(err.message).to.equal(`write state file ${file}`);
        expect(err.cause?.code).to.equal('ENOENT');
        expect(readdirSync(dir)).to.deep.equal([]);
      });

      it('a directory in the way of the rename: the old entry stays, the temporary file is removed', async () => {
        const file = path.join(dir, 'taken');
        mkdirSync(path.join(file, 'inner'), { recursive: true });
        const err = await failure(writeFileAtomic(fs, file, 'x'));
        expect(err.message).to.equal(`write state file ${file}`);
        expect(['EISDIR', 'ENOTEMPTY', 'EEXIST']).to.include(err.cause?.code);
        expect(readdirSync(dir)).to.deep.equal(['taken']);
        expect(statSync(file).isDirectory()).to.equal(true);
      });
    });
  }
});
