import { describe, expect, it } from 'vitest';
import { explainChange, fingerprint, FINGERPRINT_FORMAT, type FingerprintData } from '../../src/engine/fingerprint.js';
import { canonicalize8785, sha256, type ContentHash } from '../../src/engine/hash.js';
import { manifestHash } from '../../src/engine/store.js';

const h = (s: string) => sha256(s) as ContentHash;
const base: FingerprintData = {
  format: FINGERPRINT_FORMAT,
  kind: 'train',
  version: '3',
  params: { lr: 0.001, hidden: [128, 128], activation: 'actmix' },
  seed: 1192,
  inputs: { train: [h('train-bytes')], val: [h('val-bytes')] },
  files: {},
  runtime: { backend: 'wasm', tfjs: '4.22.0' },
};

describe('fingerprint', () => {
  it('has a pinned value (changing the key layout must be deliberate: bump FINGERPRINT_FORMAT)', () => {
    expect(canonicalize8785(base)).toBe(
      '{"files":{},"format":1,"inputs":{"train":["' + h('train-bytes') + '"],"val":["' + h('val-bytes') + '"]},"kind":"train","params":{"activation":"actmix","hidden":[128,128],"lr":0.001},"runtime":{"backend":"wasm","tfjs":"4.22.0"},"seed":1192,"version":"3"}',
    );
    expect(fingerprint(base)).toBe('b796bd27dd67e01f32ce3be2752f45b930349a678a61e066eb091d7876e4c62b');
    expect(fingerprint(base)).toBe(sha256(canonicalize8785(base)));
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('does not depend on key order or number spelling', () => {
    const reordered: FingerprintData = JSON.parse(JSON.stringify({ runtime: base.runtime, seed: 1192, inputs: { val: base.inputs.val, train: base.inputs.train }, params: { activation: 'actmix', hidden: [128, 128], lr: 1e-3 }, files: {}, version: '3', kind: 'train', format: 1 }));
    expect(fingerprint(reordered)).toBe(fingerprint(base));
  });

  it('changes with every field', () => {
    const variants: Partial<FingerprintData>[] = [
      { kind: 'train2' }, { version: '4' }, { params: { ...(base.params as object), lr: 0.01 } }, { seed: 1 },
      { inputs: { ...base.inputs, train: [h('other')] } }, { files: { 'a.py': h('x') } }, { runtime: { backend: 'blas', tfjs: '4.22.0' } },
    ];
    const fps = new Set(variants.map((v) => fingerprint({ ...base, ...v })));
    expect(fps.size).toBe(variants.length);
    expect(fps.has(fingerprint(base))).toBe(false);
  });

  it('explains a change field by field', () => {
    const now: FingerprintData = { ...base, version: '4', params: { lr: 0.01, hidden: [128, 128], dropout: 0.1, activation: 'actmix' }, inputs: { ...base.inputs, val: [h('v2')] }, runtime: { backend: 'blas', tfjs: '4.22.0' } };
    expect(explainChange(base, now, { val: ['split[fold=3].val'] })).toEqual([
      'code version changed 3 → 4',
      'params.dropout added (0.1)',
      'params.lr changed 0.001 → 0.01',
      'input split[fold=3].val changed',
      'runtime.backend changed "wasm" → "blas"',
    ]);
  });

  it('directory hashes are canonical manifests', () => {
    const a = manifestHash([{ path: 'b.txt', hash: h('b'), size: 1 }, { path: 'a.txt', hash: h('a'), size: 1 }]);
    const b = manifestHash([{ path: 'a.txt', hash: h('a'), size: 1 }, { path: 'b.txt', hash: h('b'), size: 1 }]);
    expect(a).toBe(b);
    expect(a).toBe(sha256(`pipe-dir-v1\n${h('a')}  a.txt\n${h('b')}  b.txt\n`));
  });
});
