import { describe, expect, it } from 'vitest';
import { canonicalFingerprint, explainChange, fingerprint, FINGERPRINT_FORMAT, simpleText, type FingerprintData } from '../../src/engine/cache/fingerprint.js';
import { canonicalize8785, sha256, type ContentHash } from '../../src/lib/hash.js';
import { formatReason } from '../../src/engine/cache/reasons.js';
import { manifestHash } from '../../src/engine/cache/store.js';

const h = (s: string) => sha256(s) as ContentHash;
const base: FingerprintData = {
  format: FINGERPRINT_FORMAT,
  kind: 'train',
  version: '3',
  code: { 'src/stages/train.ts': h('train.ts'), 'src/lib/ml/trainer.ts': h('trainer.ts') },
  params: { lr: 0.001, hidden: [128, 128], activation: 'actmix' },
  seed: 1192,
  inputs: { train: [h('train-bytes')], val: [h('val-bytes')] },
  files: {},
  runtime: { backend: 'wasm', node: '20', platform: 'linux-x64', tfjs: '4.22.0' },
};

describe('fingerprint', () => {
  it('has a pinned value (changing the key layout must be deliberate: bump FINGERPRINT_FORMAT)', () => {
    expect(canonicalize8785(base)).toBe(
      '{"code":{"src/lib/ml/trainer.ts":"' + h('trainer.ts') + '","src/stages/train.ts":"' + h('train.ts') + '"},"files":{},"format":3,"inputs":{"train":["' + h('train-bytes') + '"],"val":["' + h('val-bytes') + '"]},"kind":"train","params":{"activation":"actmix","hidden":[128,128],"lr":0.001},"runtime":{"backend":"wasm","node":"20","platform":"linux-x64","tfjs":"4.22.0"},"seed":1192,"version":"3"}',
    );
    expect(fingerprint(base)).toBe('a7cc1bff011a8f33623fd21fc7eab89f6f99de2a882adb256640d69d5f310e03');
    expect(fingerprint(base)).toBe(sha256(canonicalize8785(base)));
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('serializes shared (frozen) code and runtime once, byte for byte as RFC 8785 of the whole struct', () => {
    const code = Object.freeze({ ...base.code, 'src/é/ü.ts': h('x'), 'src/Z.ts': h('z') });
    const runtime = Object.freeze({ ...base.runtime, 'ß': '1' });
    const variants: FingerprintData[] = [
      { ...base, code, runtime },
      { ...base, code, runtime, params: { 'b\u{1F600}': [1e21, -0, 0.1, 'x\n'], a: { z: null, y: true } }, seed: 7 },
      { ...base, code, runtime, params: undefined, inputs: {} },
      { ...base, code: { ...base.code }, runtime: { node: '20' } },   // not frozen: serialized each time
    ];
    for (const v of variants) {
      expect(canonicalFingerprint(v)).toBe(canonicalize8785(v));
      expect(fingerprint(v)).toBe(sha256(canonicalize8785(v)));
      // the params' text made before (the graph cache's) gives the same bytes
      if (v.params !== undefined) {
        expect(canonicalFingerprint(v, canonicalize8785(v.params))).toBe(canonicalize8785(v));
        expect(fingerprint(v, canonicalize8785(v.params))).toBe(fingerprint(v));
      }
    }
    // the memo is per object: another frozen closure gives its own text
    const other = Object.freeze({ 'src/stages/other.ts': h('o') });
    expect(canonicalFingerprint({ ...base, code: other, runtime })).toBe(canonicalize8785({ ...base, code: other, runtime }));
    expect(fingerprint({ ...base, code, runtime })).not.toBe(fingerprint({ ...base, code: other, runtime }));
  });

  it('writes strings, numbers and maps of hashes (inputs, files) byte for byte as RFC 8785, and leaves everything else to the general serializer', () => {
    const lone = String.fromCharCode(0xd800);
    const same: unknown[] = [
      '', 'command', 'é\u0000"\\\n\u2028', '\u{1F600}', 0, -0, 3, 1192, 0.1, 1e21, 1e-7, -1.5e300, 2 ** 53 + 2,
      {}, { b: ['x'], a: [], 'B': ['y', 'z'] }, { 'é': 'h', 'e': 'g', '\u{1F600}': 'k', 'z\u0000': 'q', '10': 'a', '9': 'b' },
      { x: undefined, y: ['1'] }, { train: [h('a'), h('b')], val: [h('c')] },
    ];
    for (const v of same) expect(simpleText(v), JSON.stringify(v)).toBe(canonicalize8785(v));
    // not simple: the general way (undefined here)
    for (const v of [NaN, Infinity, null, true, [1], ['a'], { a: 1 }, { a: [1] }, { a: { b: 'c' } }, { a: ['x', 2] }, { a: null }, new Date(0), Object.create(null)]) {
      expect(simpleText(v), typeof v).toBeUndefined();
    }
    // a lone surrogate: the general serializer refuses it, so the fast one must not write it either
    for (const v of [lone, 'a' + lone, { [lone]: 'x' }, { a: lone }, { a: ['x', lone] }]) expect(simpleText(v)).toBeUndefined();
    const sparse: unknown[] = ['a']; sparse[2] = 'b';
    expect(simpleText({ a: sparse })).toBeUndefined();
    // and a whole struct through it equals RFC 8785 of the whole struct
    const s = { ...base, kind: 'k\u2028', version: 'v é', seed: 2 ** 31 - 1, inputs: { 'b\u{1F600}': [h('1')], a: [h('2'), h('3')] }, files: { 'data/ü.csv': h('f') } };
    expect(canonicalFingerprint(s)).toBe(canonicalize8785(s));
  });

  it('does not depend on key order or number spelling', () => {
    const reordered: FingerprintData = JSON.parse(JSON.stringify({ runtime: base.runtime, seed: 1192, inputs: { val: base.inputs.val, train: base.inputs.train }, params: { activation: 'actmix', hidden: [128, 128], lr: 1e-3 }, files: {}, version: '3', kind: 'train', format: 3, code: { 'src/stages/train.ts': h('train.ts'), 'src/lib/ml/trainer.ts': h('trainer.ts') } }));
    expect(fingerprint(reordered)).toBe(fingerprint(base));
  });

  it('changes with every field', () => {
    const variants: Partial<FingerprintData>[] = [
      { kind: 'train2' }, { version: '4' }, { params: { ...(base.params as object), lr: 0.01 } }, { seed: 1 },
      { inputs: { ...base.inputs, train: [h('other')] } }, { files: { 'a.py': h('x') } }, { runtime: { ...base.runtime, backend: 'blas' } },
      { code: { ...base.code, 'src/lib/ml/trainer.ts': h('fixed') } }, { runtime: { ...base.runtime, node: '22' } },
    ];
    const fps = new Set(variants.map((v) => fingerprint({ ...base, ...v })));
    expect(fps.size).toBe(variants.length);
    expect(fps.has(fingerprint(base))).toBe(false);
  });

  it('explains a change field by field, as reason data', () => {
    const now: FingerprintData = {
      ...base, version: '4', code: { ...base.code, 'src/lib/ml/trainer.ts': h('fixed') },
      params: { lr: 0.01, hidden: [128, 128], dropout: 0.1, activation: 'actmix' }, inputs: { ...base.inputs, val: [h('v2')] }, runtime: { ...base.runtime, backend: 'blas' },
    };
    const rs = explainChange(base, now, { val: ['split[fold=3].val'] });
    expect(rs).toEqual([
      { code: 'code-changed', files: ['src/lib/ml/trainer.ts'] },
      { code: 'version-changed', before: '3', after: '4' },
      { code: 'params-changed', path: 'params.dropout', change: 'added', after: 0.1 },
      { code: 'params-changed', path: 'params.lr', change: 'changed', before: 0.001, after: 0.01 },
      { code: 'input-changed', input: 'val', producers: ['split[fold=3].val'], change: 'content' },
      { code: 'runtime-changed', key: 'backend', before: 'wasm', after: 'blas' },
    ]);
    // one formatter for the terminal
    expect(rs.map(formatReason)).toEqual([
      'code changed: src/lib/ml/trainer.ts',
      'code version changed 3 → 4',
      'params.dropout added (0.1)',
      'params.lr changed 0.001 → 0.01',
      'input val changed (from split[fold=3].val)',
      'runtime.backend changed "wasm" → "blas"',
    ]);
  });

  it('a record of an older layout is one fingerprint-format-changed reason, never a crash', () => {
    const old = { format: 1, kind: 'train', version: '3', params: base.params, seed: 1192, inputs: base.inputs, files: {}, runtime: { backend: 'wasm' } } as unknown as FingerprintData;
    expect(explainChange(old, base)).toEqual([{ code: 'fingerprint-format-changed', before: 1, after: FINGERPRINT_FORMAT }]);
    expect(explainChange(null as unknown as FingerprintData, base)).toEqual([{ code: 'fingerprint-format-changed', before: null, after: FINGERPRINT_FORMAT }]);
    expect(formatReason({ code: 'fingerprint-format-changed', before: 1, after: 2 })).toBe('fingerprint format changed 1 → 2');
  });

  it('directory hashes are canonical manifests', () => {
    const a = manifestHash([{ path: 'b.txt', hash: h('b'), size: 1 }, { path: 'a.txt', hash: h('a'), size: 1 }]);
    const b = manifestHash([{ path: 'a.txt', hash: h('a'), size: 1 }, { path: 'b.txt', hash: h('b'), size: 1 }]);
    expect(a).toBe(b);
    expect(a).toBe(sha256(`pipe-dir-v1\n${h('a')}  a.txt\n${h('b')}  b.txt\n`));
  });
});
