/**
 * ESLint runs for one purpose in pipe (issue 30): no data-sized array is spread into the
 * arguments of a call. V8 passes every spread element as a call argument on the stack, so
 * `rows.push(...part)`, `Math.max(...values)` or `String.fromCharCode(...bytes)` throw
 * "RangeError: Maximum call stack size exceeded" somewhere above ~100,000 elements — with no
 * stage named. Loops (or `TypedArray.set`, a reduce) do the same work in bounded stack.
 * Types and formatting are tsc's and the reviewers' business; this config checks nothing else.
 */
import tsParser from '@typescript-eslint/parser';

const message = (what) =>
  `${what}: spreading an array into call arguments overflows the call stack for data-sized arrays (~100k+ elements); use a loop, TypedArray.set or a reduce (issue 30)`;

export const spreadRules = {
  'no-restricted-syntax': [
    'error',
    { selector: "CallExpression[callee.property.name=/^(push|unshift|splice|concat)$/] > SpreadElement", message: message('spread into push/unshift/splice/concat') },
    { selector: "CallExpression[callee.object.name='Math'][callee.property.name=/^(max|min|hypot)$/] > SpreadElement", message: message('spread into Math.max/min/hypot') },
    { selector: "CallExpression[callee.object.name='String'][callee.property.name=/^(fromCharCode|fromCodePoint)$/] > SpreadElement", message: message('spread into String.fromCharCode') },
    { selector: "CallExpression[callee.property.name='apply'] > ArrayExpression > SpreadElement", message: message('spread into Function.apply') },
  ],
};

/**
 * The data path: where arrays are as long as a table (millions of rows). Every file that reads,
 * builds, splits or writes table columns belongs here (the rule is cheap to satisfy anywhere:
 * add a file when it starts handling rows).
 */
export const DATA_FILES = [
  'src/sdk/**/*.ts',
  'src/lib/splits.ts', 'src/lib/prep.ts', 'src/lib/datasets.ts', 'src/lib/npz.ts', 'src/lib/formats/**/*.ts',
  'src/lib/ml/table-trainer.ts',
  'src/stages/generate-synthetic.ts', 'src/stages/load-csv.ts', 'src/stages/download-uci.ts', 'src/stages/encode.ts',
  'src/stages/split.ts', 'src/stages/standardize.ts', 'src/stages/aggregate.ts', 'src/stages/fit-separator.ts',
];

export default [
  {
    files: DATA_FILES,
    languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: spreadRules,
  },
];
