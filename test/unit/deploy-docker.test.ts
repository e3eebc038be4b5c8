/**
 * deploy/docker/Dockerfile checked without a Docker daemon: two stages, the
 * runtime stage gets nft (knit runs it) and no compilers, and every file the
 * runtime stage copies out of the build stage is one this repository has or
 * its build scripts produce, at the paths knitd's launcher and the native
 * addon loader look for.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNITD_NODE_FLAGS } from '../lab/knitd';
import { nativeAddonPath } from '../../agent/src/base';

const REPO = join(__dirname, '..', '..', '..');
const text = readFileSync(join(REPO, 'deploy', 'docker', 'Dockerfile'), 'utf8');
// Instructions, with continuation lines joined.
const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
const fromIdx = lines.map((l, i) => (l.startsWith('FROM ') ? i : -1)).filter((i) => i >= 0);

describe('deploy/docker/Dockerfile', () => {
  it('builds in a named stage and runs from a second one', () => {
    expect(fromIdx).to.have.length(2);
    expect(lines[fromIdx[0]!]).to.match(/ AS build$/);
  });

  const runtime = lines.slice(fromIdx[1]);
  const build = lines.slice(fromIdx[0], fromIdx[1]);

  it('build stage: npm ci from the lock file, then the build and the plugin artifact', () => {
    const joined = build.join('\n');
    expect(joined).to.include('COPY package.json package-lock.json ./');
    expect(joined).to.include('npm ci');
    for (const s of ['npm run build', 'npm run build:plugin', 'npm prune --omit=dev']) expect(joined).to.include(s);
    // The artifact is compiled by Bun from the devDependencies, before they are pruned.
    expect(joined.indexOf('npm run build:plugin')).to.be.lessThan(joined.indexOf('npm prune --omit=dev'));
  });

  it('runtime stage: nftables, no compilers, knitd as the entry point', () => {
    const joined = runtime.join('\n');
    expect(joined).to.match(/apt-get install[^\n]*\bnftables\b/);
    expect(joined).to.not.match(/\b(g\+\+|gcc|make|python3)\b/);
    // The same node heap flags as agent/bin/knitd's shebang.
    expect(runtime[runtime.length - 1]).to.equal(`ENTRYPOINT ${JSON.stringify(['node', ...KNITD_NODE_FLAGS, '/opt/knit/agent/bin/knitd'])}`.replace(/","/g, '", "'));
  });

  it('copies from the build stage only paths the repository has or its build produces', () => {
    const produced: Record<string, string> = {
      'dist/agent': 'tsc (build:ts)',
      'dist/cni-plugin': 'tsc + build:plugin',
      'agent/native/build/Release/knit_netns.node': 'build:native',
      'agent/native/build/Release/knit_nft.node': 'build:native',
      node_modules: 'npm ci',
    };
    const copies = runtime.filter((l) => l.startsWith('COPY --from=build '));
    expect(copies.length).to.be.greaterThan(5);
    for (const c of copies) {
      const src = c.split(/\s+/)[2]!.replace(/^\/src\//, '');
      expect(produced[src] !== undefined || existsSync(join(REPO, src)), `${src} exists or is built`).to.equal(true);
    }
    // The launcher requires <root>/dist/agent/src/main.js and the addon loader
    // <root>/agent/native/build/Release/knit_netns.node (and knit_nft.node, libnftables); proto/ is read at run time.
    for (const needed of ['/src/dist/agent ./dist/agent', '/src/agent/bin ./agent/bin', '/src/proto ./proto',
      '/src/agent/native/build/Release/knit_netns.node ./agent/native/build/Release/knit_netns.node',
      '/src/agent/native/build/Release/knit_nft.node ./agent/native/build/Release/knit_nft.node']) {
      expect(copies.some((c) => c.endsWith(needed)), needed).to.equal(true);
    }
    // The compiled loader (dist/agent/src/base/native-addon.js) looks where the image puts them.
    expect(nativeAddonPath('knit_netns')).to.equal(join(REPO, 'agent', 'native', 'build', 'Release', 'knit_netns.node'));
    expect(nativeAddonPath('knit_nft')).to.equal(join(REPO, 'agent', 'native', 'build', 'Release', 'knit_nft.node'));
  });

  it('the build context (.dockerignore at the repository root) leaves out node_modules, dist, the native build and .git, and nothing the build copies', () => {
    const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore).to.include.members(['.git', 'node_modules', 'dist', 'agent/native/build']);
    const copied = build.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copied.length, 'the build stage copies sources').to.be.at.least(5);
    for (const src of copied) expect(ignore, `${src} is copied, so it must not be ignored`).to.not.include(src.replace(/\/$/, ''));
  });
});
