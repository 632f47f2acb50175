/**
 * The direction of imports (checked by `npm run lint:deps`, part of `npm test`):
 *
 *   cli → runs → engine (front → cache → exec → ui, see below) → lib → sdk
 *   stages → lib → sdk
 *
 * `sdk` (the stage API: types, defineStage, Rng) depends on nothing of pipe's; `lib` and the
 * stage kinds never import the engine, run tracking or the CLI; the engine never imports run
 * tracking or the CLI; no module imports itself back (no cycles, type-only imports included).
 */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'import cycles make the layering unreadable', from: {}, to: { circular: true } },
    { name: 'sdk-is-a-leaf', severity: 'error', comment: 'the stage API depends on nothing of pipe\'s', from: { path: '^src/sdk/' }, to: { path: '^src/', pathNot: '^src/sdk/' } },
    { name: 'lib-below-engine', severity: 'error', comment: 'lib is a library: no engine, runs or cli', from: { path: '^src/lib/' }, to: { path: '^src/(engine|runs|cli|stages)/' } },
    { name: 'stages-below-engine', severity: 'error', comment: 'stage kinds see only the stage API and lib', from: { path: '^src/stages/' }, to: { path: '^src/(engine|runs|cli)/' } },
    { name: 'stages-without-coordinator-bundles', severity: 'error', comment: 'the coordinator\'s bundled third-party code (vendor, vendor-front, front-libs) would enter a kind\'s code closure; kinds import packages themselves', from: { path: '^src/(stages|sdk)/' }, to: { path: '^src/lib/(vendor|vendor-front|front-libs)\\.ts$' } },
    { name: 'engine-below-runs', severity: 'error', comment: 'the engine reports to run tracking through its own interface', from: { path: '^src/engine/' }, to: { path: '^src/(runs|cli)/' } },
    { name: 'runs-below-cli', severity: 'error', from: { path: '^src/runs/' }, to: { path: '^src/cli/' } },
    { name: 'engine-front-first', severity: 'error', comment: 'load → validate → expand → graph come first: the front end never reaches into the cache, execution or display', from: { path: '^src/engine/front/' }, to: { path: '^src/engine/(cache|exec|ui)/' } },
    { name: 'engine-cache-before-exec', severity: 'error', from: { path: '^src/engine/cache/' }, to: { path: '^src/engine/(exec|ui)/' } },
    { name: 'engine-exec-before-ui', severity: 'error', comment: 'execution emits events; displays consume them', from: { path: '^src/engine/exec/' }, to: { path: '^src/engine/ui/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
