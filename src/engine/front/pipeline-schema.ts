/**
 * The pipeline file format: the JSON Schema every pipeline YAML is validated against (ajv, in
 * validate.ts), and — through FromSchema — the TypeScript type of a validated document, so the two
 * cannot drift. schemas/pipeline.schema.json (for editors: YAML language servers read it) is
 * written from this by `npm run schemas`; a test checks it is current.
 */
import type { FromSchema } from 'json-schema-to-ts';

export const pipelineSchema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "https://pipe.dev/schemas/pipeline.schema.json",
  "title": "pipe pipeline",
  "description": "A pipe pipeline: named stages of registered kinds forming a DAG through their inputs.",
  "type": "object",
  "required": [
    "name",
    "stages"
  ],
  "additionalProperties": false,
  "properties": {
    "name": {
      "type": "string",
      "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$",
      "description": "Pipeline name; names its runs in the cache and its folder under artifacts/."
    },
    "description": {
      "type": "string"
    },
    "report": {
      "description": "Write the HTML report (artifacts/<name>/report/) at the end of every `pipe run`: true, or {headline: [stage.output, …]} to also name the outputs the report opens with (tables, figures, JSON; stage[k=v].output picks instances, an unqualified reference to a matrix stage shows every instance).",
      "oneOf": [
        {
          "type": "boolean"
        },
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "headline": {
              "type": "array",
              "items": {
                "$ref": "#/definitions/ref"
              },
              "minItems": 1
            }
          }
        }
      ]
    },
    "seed": {
      "type": "integer",
      "description": "Default RNG seed for every stage (a stage's own `seed:` wins)."
    },
    "metrics": {
      "type": "object",
      "description": "Which way each metric is better, e.g. {test_accuracy: {goal: max}, rmse: {goal: min}}: a metric name as stages report it (any stage), or stage.metric for one stage. `pipe runs` shows these metrics; `pipe diff` colours changes and gates (--fail-if, --rtol/--atol) by the goal; curve columns of the same name get a best value.",
      "propertyNames": {
        "pattern": "^[A-Za-z_][A-Za-z0-9_.\\[\\]=,-]*$"
      },
      "additionalProperties": {
        "type": "object",
        "required": [
          "goal"
        ],
        "additionalProperties": false,
        "properties": {
          "goal": {
            "enum": [
              "max",
              "min"
            ],
            "description": "max: higher is better; min: lower is better"
          }
        }
      }
    },
    "params": {
      "type": "object",
      "description": "Pipeline-level parameters, referenced as ${params.path.to.value}; overridable with --set path=value."
    },
    "stages": {
      "type": "object",
      "minProperties": 1,
      "propertyNames": {
        "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"
      },
      "additionalProperties": {
        "$ref": "#/definitions/stage"
      }
    },
    "executor": {
      "$ref": "#/definitions/executor"
    },
    "resources": {
      "$ref": "#/definitions/resources",
      "description": "Default resources of every stage when run on a cluster (a stage's own `resources:` wins field by field). Not part of any fingerprint."
    },
    "slurm": {
      "$ref": "#/definitions/slurmOptions"
    }
  },
  "definitions": {
    "executor": {
      "enum": [
        "local",
        "slurm"
      ],
      "description": "Where stages run: `local` worker processes (default) or `slurm` jobs; `pipe run --executor` wins."
    },
    "resources": {
      "type": "object",
      "additionalProperties": false,
      "description": "What a stage asks of the cluster scheduler. Not part of the fingerprint.",
      "properties": {
        "cpus": {
          "type": "integer",
          "minimum": 1,
          "description": "--cpus-per-task"
        },
        "mem": {
          "type": [
            "string",
            "integer"
          ],
          "description": "--mem, e.g. 512M or 4G (a bare number is megabytes)"
        },
        "time": {
          "type": [
            "string",
            "integer"
          ],
          "description": "--time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS"
        },
        "gpus": {
          "type": [
            "integer",
            "string"
          ],
          "description": "GPUs: locally, devices handed out as CUDA_VISIBLE_DEVICES (never shared; pipe run --gpus N); on Slurm --gres=gpu:N (\"a100:2\" → --gres=gpu:a100:2)"
        },
        "gres": {
          "type": "string",
          "description": "--gres"
        },
        "partition": {
          "type": "string"
        },
        "account": {
          "type": "string"
        },
        "qos": {
          "type": "string"
        },
        "constraint": {
          "type": "string"
        },
        "sbatch_args": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "description": "further sbatch options, one argument each (never through a shell)"
        },
        "requeue": {
          "type": "boolean",
          "description": "let Slurm requeue the job (default --no-requeue: pipe owns retries)"
        },
        "retries": {
          "type": "integer",
          "minimum": 0,
          "maximum": 20,
          "description": "resubmissions after TIMEOUT, OUT_OF_MEMORY, NODE_FAIL or PREEMPTED"
        },
        "retry_time_factor": {
          "type": "number",
          "minimum": 1,
          "description": "time limit factor per TIMEOUT retry (default 2)"
        },
        "retry_mem_factor": {
          "type": "number",
          "minimum": 1,
          "description": "memory factor per OUT_OF_MEMORY retry (default 2)"
        },
        "batch": {
          "type": "integer",
          "minimum": 1,
          "maximum": 10000,
          "description": "run up to N ready sibling instances one after another in one job"
        }
      }
    },
    "slurmOptions": {
      "type": "object",
      "additionalProperties": false,
      "description": "How the Slurm executor talks to the scheduler.",
      "properties": {
        "max_queued": {
          "type": "integer",
          "minimum": 1
        },
        "submit_rate": {
          "type": "number",
          "exclusiveMinimum": 0
        },
        "max_array": {
          "type": "integer",
          "minimum": 1
        },
        "array_window_ms": {
          "type": "integer",
          "minimum": 0
        },
        "poll_min": {
          "type": "number",
          "exclusiveMinimum": 0
        },
        "poll_max": {
          "type": "number",
          "exclusiveMinimum": 0
        },
        "probe_timeout": {
          "type": "number",
          "exclusiveMinimum": 0
        },
        "submit_tries": {
          "type": "integer",
          "minimum": 1
        }
      }
    },
    "scalar": {
      "type": [
        "string",
        "number",
        "boolean"
      ]
    },
    "ref": {
      "type": "string",
      "pattern": "^[A-Za-z_][A-Za-z0-9_-]*(\\[[^\\]]*\\])?\\.[A-Za-z_][A-Za-z0-9_-]*$",
      "description": "stage.output, stage[key=value,…].output, or stage[*].output (gather every matching instance)"
    },
    "stage": {
      "type": "object",
      "required": [
        "kind"
      ],
      "additionalProperties": false,
      "properties": {
        "kind": {
          "type": "string",
          "description": "Registered stage kind (see `pipe kinds`)."
        },
        "description": {
          "type": "string"
        },
        "params": {
          "type": "object"
        },
        "resources": {
          "$ref": "#/definitions/resources"
        },
        "checkpoint": {
          "description": "Resume checkpoints of a training stage (every kit-loop kind and script stages using the helper): save every `every_epochs` epochs or `every_seconds` seconds, whichever comes first (default: every 30 s); false: none. A killed, interrupted or preempted run resumes from the newest one with bit-identical results. Not part of the fingerprint.",
          "oneOf": [
            { "type": "boolean" },
            {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "every_epochs": { "type": "integer", "minimum": 0, "description": "epochs between checkpoints (0: not by count)" },
                "every_seconds": { "type": "number", "minimum": 0, "description": "seconds between checkpoints (0: not by time)" }
              }
            }
          ]
        },
        "seed": {
          "description": "This stage's seed: an integer, '${…}', or {derive: [matrix keys], base?} — derived from the pipeline seed (or base) and the instance's values of those keys, so instances that differ only in the other keys share a seed.",
          "oneOf": [
            {
              "type": [
                "integer",
                "string"
              ]
            },
            {
              "type": "object",
              "required": [
                "derive"
              ],
              "additionalProperties": false,
              "properties": {
                "derive": {
                  "type": "array",
                  "items": {
                    "type": "string"
                  },
                  "uniqueItems": true
                },
                "base": {
                  "type": [
                    "integer",
                    "string"
                  ]
                }
              }
            }
          ]
        },
        "when": {
          "description": "Run this stage only when the condition holds, after --set and matrix substitution: a boolean or '${…}' giving one, {equals: [a, b]}, {not_equals: [a, b]} or {in: [a, [b, c]]}. Per instance when it uses ${matrix.…}. A stage switched off everywhere is absent; a stage that needs its outputs must be switched off too.",
          "oneOf": [
            {
              "type": [
                "boolean",
                "string"
              ]
            },
            {
              "type": "object",
              "required": [
                "equals"
              ],
              "additionalProperties": false,
              "properties": {
                "equals": {
                  "type": "array",
                  "minItems": 2,
                  "maxItems": 2
                }
              }
            },
            {
              "type": "object",
              "required": [
                "not_equals"
              ],
              "additionalProperties": false,
              "properties": {
                "not_equals": {
                  "type": "array",
                  "minItems": 2,
                  "maxItems": 2
                }
              }
            },
            {
              "type": "object",
              "required": [
                "in"
              ],
              "additionalProperties": false,
              "properties": {
                "in": {
                  "type": "array",
                  "minItems": 2,
                  "maxItems": 2
                }
              }
            }
          ]
        },
        "inputs": {
          "type": "object",
          "additionalProperties": {
            "oneOf": [
              {
                "$ref": "#/definitions/ref"
              },
              {
                "type": "array",
                "items": {
                  "$ref": "#/definitions/ref"
                },
                "minItems": 1
              }
            ]
          }
        },
        "matrix": {
          "type": "object",
          "minProperties": 1,
          "properties": {
            "exclude": {
              "type": "array",
              "items": {
                "type": "object",
                "additionalProperties": {
                  "$ref": "#/definitions/scalar"
                }
              }
            }
          },
          "additionalProperties": {
            "oneOf": [
              {
                "type": "array",
                "items": {
                  "$ref": "#/definitions/scalar"
                },
                "minItems": 1
              },
              {
                "type": "object",
                "required": [
                  "range"
                ],
                "additionalProperties": false,
                "properties": {
                  "range": {
                    "oneOf": [
                      {
                        "type": [
                          "integer",
                          "string"
                        ]
                      },
                      {
                        "type": "array",
                        "items": {
                          "type": [
                            "integer",
                            "string"
                          ]
                        },
                        "minItems": 2,
                        "maxItems": 3
                      }
                    ]
                  }
                }
              },
              {
                "type": "string",
                "pattern": "^\\$\\{[^}]+\\}$"
              }
            ]
          }
        }
      }
    }
  }
} as const;

/** A pipeline document as validated (before --set overrides and defaults). */
export type PipelineSchemaDoc = FromSchema<typeof pipelineSchema>;
