/**
 * The ports every "fit on the training part, apply to all parts" kind shares (encode,
 * standardize): the train / val / test tables in and out. No imports, so a kind can declare its
 * ports with it without loading the table code at start-up.
 */
export const PART_INPUTS = {
  train: { type: 'table' },
  val: { type: 'table', optional: true },
  test: { type: 'table', optional: true },
} as const;

export const PART_OUTPUTS = {
  train: { type: 'table' },
  val: { type: 'table' },
  test: { type: 'table' },
} as const;
