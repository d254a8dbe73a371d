import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { Rng } from '../js/rng';

/** The kind of problem the target column poses. */
export type Task = 'classification' | 'regression';

/** Options of {@link loadCsv} and {@link splitTable}. */
export interface CsvOptions {
  /** Name of the target column in the header row. */
  target: string;
  /** Default: inferred from the target column. */
  task?: Task;
  /** Fraction of the rows held out for testing, in (0, 1). Default 0.2. */
  testSplit?: number;
  /** Seed of the split, an integer in [0, 2^32). Default 0. */
  seed?: number;
  /** Scale every feature (and a regression target) to zero mean and unit
   * variance with the training rows' statistics. Default true. */
  standardize?: boolean;
}

/** Mean and standard deviation used to standardise a column. */
export interface Scale {
  mean: number;
  std: number;
}

/** A CSV file split into training and test rows, ready for `Mlp.fit`. */
export interface TabularSplit {
  task: Task;
  /** The reason the task was chosen, for display. */
  taskReason: string;
  featureNames: string[];
  /** Class names in label order, for classification. */
  classes: string[] | null;
  inputs: number;
  outputs: number;
  trainRows: number;
  testRows: number;
  xTrain: Float32Array;
  xTest: Float32Array;
  /** Class labels (`Int32Array`) or standardised targets (`Float32Array`). */
  yTrain: Int32Array | Float32Array;
  yTest: Int32Array | Float32Array;
  /** Per-feature scales, or `null` without standardisation. */
  featureScales: Scale[] | null;
  /** Scale of a regression target; predictions times `std` plus `mean`
   * are in the target's own units. */
  targetScale: Scale | null;
}

/** Error in the contents of a CSV file. */
export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Most distinct integer targets for which classification is inferred. */
const MAX_INFERRED_CLASSES = 20;

/** Reads a CSV file with a header row and splits it with
 * {@link splitTable}. */
export function loadCsv(path: string, options: CsvOptions): TabularSplit {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CsvError(`CSV file not found: ${path}. Check the --data path.`);
    }
    if (code === 'EISDIR') {
      throw new CsvError(`${path} is a directory; --data needs a CSV file.`);
    }
    throw new CsvError(`cannot read CSV file ${path}: ${(error as Error).message}`);
  }
  return splitTable(parseCsv(text, path), options);
}

/** Parses CSV text into its header and rows of cells. */
export function parseCsv(
  text: string,
  source = 'input',
): { header: string[]; rows: string[][] } {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new CsvError(`invalid CSV in ${source}: ${(error as Error).message}`);
  }
  if (records.length < 2) {
    throw new CsvError(
      `${source} needs a header row and at least two data rows, got ${records.length} rows.`,
    );
  }
  return { header: records[0], rows: records.slice(1) };
}

/**
 * Turns parsed CSV cells into a seeded train/test split: features as
 * float32, the target as class labels or values, standardised by default.
 *
 * Line numbers in errors count the header as line 1.
 */
export function splitTable(
  table: { header: string[]; rows: string[][] },
  options: CsvOptions,
): TabularSplit {
  const { header, rows } = table;
  const duplicate = header.find((name, i) => header.indexOf(name) !== i);
  if (duplicate !== undefined) {
    throw new CsvError(`the header names column '${duplicate}' twice; give every column its own name.`);
  }
  const targetColumn = header.indexOf(options.target);
  if (targetColumn < 0) {
    const hint =
      header.length === 1 && /[;\t]/.test(header[0])
        ? ' The file may use another delimiter; onecycle reads comma-separated files.'
        : '';
    throw new CsvError(
      `target column '${options.target}' not found; the header has: ${header.join(', ')}.${hint}`,
    );
  }
  const testSplit = options.testSplit ?? 0.2;
  if (!(testSplit > 0 && testSplit < 1)) {
    throw new CsvError(`--test-split must be in (0, 1), got ${testSplit}.`);
  }
  const featureColumns = header.map((_, i) => i).filter((i) => i !== targetColumn);
  if (featureColumns.length === 0) {
    throw new CsvError('the CSV file has no feature columns besides the target.');
  }

  const features = readFeatures(header, rows, featureColumns);
  const targetCells = rows.map((row, r) => targetCell(header, row, r, targetColumn));
  const { task, reason } = chooseTask(targetCells, options.task);
  const target = encodeTarget(targetCells, task, header[targetColumn]);

  const order = rows.map((_, i) => i);
  new Rng(options.seed ?? 0).shuffle(order);
  const testRows = Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * testSplit)));
  const trainOrder = order.slice(0, rows.length - testRows);
  const testOrder = order.slice(rows.length - testRows);

  const inputs = featureColumns.length;
  const xTrain = gather(features, inputs, trainOrder);
  const xTest = gather(features, inputs, testOrder);
  const standardize = options.standardize ?? true;
  const featureScales = standardize ? fitScales(xTrain, inputs) : null;
  if (featureScales) {
    applyScales(xTrain, featureScales);
    applyScales(xTest, featureScales);
  }

  let yTrain: Int32Array | Float32Array;
  let yTest: Int32Array | Float32Array;
  let targetScale: Scale | null = null;
  if (target.labels) {
    yTrain = Int32Array.from(trainOrder, (i) => target.labels![i]);
    yTest = Int32Array.from(testOrder, (i) => target.labels![i]);
  } else {
    yTrain = Float32Array.from(trainOrder, (i) => target.values![i]);
    yTest = Float32Array.from(testOrder, (i) => target.values![i]);
    if (standardize) {
      targetScale = fitScales(yTrain, 1)[0];
      applyScales(yTrain, [targetScale]);
      applyScales(yTest, [targetScale]);
    }
  }

  return {
    task,
    taskReason: reason,
    featureNames: featureColumns.map((i) => header[i]),
    classes: target.classes,
    inputs,
    outputs: target.classes ? target.classes.length : 1,
    trainRows: trainOrder.length,
    testRows,
    xTrain,
    xTest,
    yTrain,
    yTest,
    featureScales,
    targetScale,
  };
}

function checkWidth(header: string[], row: string[], r: number): void {
  if (row.length !== header.length) {
    throw new CsvError(
      `line ${r + 2} has ${row.length} fields, but the header has ${header.length}.`,
    );
  }
}

function targetCell(header: string[], row: string[], r: number, column: number): string {
  checkWidth(header, row, r);
  const cell = row[column];
  if (cell === '') {
    throw new CsvError(
      `line ${r + 2}, column '${header[column]}': the target is empty; fill or drop rows with missing values.`,
    );
  }
  return cell;
}

function readFeatures(header: string[], rows: string[][], columns: number[]): Float32Array {
  const values = new Float32Array(rows.length * columns.length);
  rows.forEach((row, r) => {
    checkWidth(header, row, r);
    columns.forEach((column, c) => {
      const cell = row[column];
      const value = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(Math.fround(value))) {
        const what =
          cell === ''
            ? 'is empty'
            : `is '${cell}', not a number within the float32 range (about ±3.4e38)`;
        throw new CsvError(
          `line ${r + 2}, column '${header[column]}' ${what}; features must be numeric ` +
            '(encode categories as numbers and fill or drop missing values).',
        );
      }
      values[r * columns.length + c] = value;
    });
  });
  return values;
}

function chooseTask(cells: string[], requested?: Task): { task: Task; reason: string } {
  if (requested) {
    if (requested !== 'classification' && requested !== 'regression') {
      throw new CsvError(`--task must be classification or regression, got '${requested}'.`);
    }
    return { task: requested, reason: 'set by --task' };
  }
  const numbers = cells.map(Number);
  if (numbers.some((value) => !Number.isFinite(value))) {
    return { task: 'classification', reason: 'the target has non-numeric values' };
  }
  const distinct = new Set(numbers).size;
  if (numbers.every(Number.isInteger) && distinct <= MAX_INFERRED_CLASSES) {
    return {
      task: 'classification',
      reason: `the target has ${distinct} distinct integer values`,
    };
  }
  return { task: 'regression', reason: 'the target has continuous numeric values' };
}

function encodeTarget(
  cells: string[],
  task: Task,
  name: string,
): { labels?: Int32Array; values?: Float32Array; classes: string[] | null } {
  if (task === 'regression') {
    const values = new Float32Array(cells.length);
    cells.forEach((cell, r) => {
      const value = Number(cell);
      if (!Number.isFinite(Math.fround(value))) {
        throw new CsvError(
          `line ${r + 2}, column '${name}' is '${cell}', not a number within the float32 range; ` +
            'a regression target must be numeric.',
        );
      }
      values[r] = value;
    });
    return { values, classes: null };
  }
  const numeric = cells.every((cell) => Number.isFinite(Number(cell)));
  const classes = [...new Set(cells)].sort(
    numeric ? (a, b) => Number(a) - Number(b) : undefined,
  );
  if (classes.length < 2) {
    throw new CsvError(`target column '${name}' has only one class, '${classes[0]}'.`);
  }
  const index = new Map(classes.map((label, i) => [label, i]));
  return { labels: Int32Array.from(cells, (cell) => index.get(cell)!), classes };
}

function gather(values: Float32Array, width: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((source, target) => {
    out.set(values.subarray(source * width, (source + 1) * width), target * width);
  });
  return out;
}

/** Computes each column's mean and standard deviation (population form);
 * a constant column gets a standard deviation of 1. */
export function fitScales(values: Float32Array, width: number): Scale[] {
  const rows = values.length / width;
  return Array.from({ length: width }, (_, c) => {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += values[r * width + c];
    const mean = sum / rows;
    let squares = 0;
    for (let r = 0; r < rows; r++) squares += (values[r * width + c] - mean) ** 2;
    const std = Math.sqrt(squares / rows);
    return { mean, std: std > 0 ? std : 1 };
  });
}

function applyScales(values: Float32Array, scales: Scale[]): void {
  const width = scales.length;
  for (let i = 0; i < values.length; i++) {
    const { mean, std } = scales[i % width];
    values[i] = (values[i] - mean) / std;
  }
}
