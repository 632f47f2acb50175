// Builds the package-lock.json of a throwaway project that depends on pipe's packed tarball,
// from pipe's own lock file: the same (non-dev) dependency tree, so `npm ci --offline` installs
// it from the npm cache without asking the registry anything.
//   node packed-lock.mjs <pipe repo> <tarball> <integrity> > package-lock.json
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [repo, tarball, integrity] = process.argv.slice(2);
const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const root = lock.packages[''];
const packages = {
  '': { name: 'pipe-user-project', dependencies: { [pkg.name]: `file:${tarball}` } },
  [`node_modules/${pkg.name}`]: {
    version: pkg.version, resolved: `file:${tarball}`, integrity, hasInstallScript: true, license: pkg.license,
    dependencies: root.dependencies, bin: root.bin, engines: root.engines,
  },
};
for (const [path, e] of Object.entries(lock.packages)) {
  if (!path || e.dev || e.link) continue;
  packages[path] = e;
}
process.stdout.write(JSON.stringify({ name: 'pipe-user-project', lockfileVersion: 3, requires: true, packages }, null, 2) + '\n');
