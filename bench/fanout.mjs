/**
 * The engine benchmarks' DAG: `gens` generators × `folds` fold stages each + 1 gather, as a pipe
 * pipeline and as the same workflow for Snakemake (bench/engine.mjs, bench/snakemake.mjs).
 */
export function fanoutPipeline(gens, folds) {
  return `name: bench
stages:
  gen:
    kind: command
    matrix: {g: {range: ${gens}}}
    params: {cmd: 'echo \${matrix.g} > \${outputs.out}', outs: {out: text}}
  fold:
    kind: command
    matrix: {g: {range: ${gens}}, f: {range: ${folds}}}
    inputs: {x: gen.out}
    params: {cmd: '(cat \${inputs.x}; echo \${matrix.f}) > \${outputs.out}', outs: {out: text}}
  gather:
    kind: command
    inputs: {all: 'fold[*].out'}
    params: {cmd: 'cat \${inputs.all} | wc -l > \${outputs.out}', outs: {out: text}}
`;
}

export function fanoutSnakefile(gens, folds) {
  return `rule all:
    input: "gather.txt"
rule gen:
    output: "gen/{g}.txt"
    shell: "echo {wildcards.g} > {output}"
rule fold:
    input: "gen/{g}.txt"
    output: "fold/{g}_{f}.txt"
    shell: "(cat {input}; echo {wildcards.f}) > {output}"
rule gather:
    input: expand("fold/{g}_{f}.txt", g=range(${gens}), f=range(${folds}))
    output: "gather.txt"
    shell: "cat {input} | wc -l > {output}"
`;
}
