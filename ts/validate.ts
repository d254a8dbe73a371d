/**
 * Validation and normalisation of every public option and data argument.
 * The public classes call these functions before dispatching to either
 * engine, so both engines report the same errors. A value of the wrong
 * type or a missing option throws a `TypeError`, and a value out of range
 * a `RangeError`. Each message names the option, the value and what is
 * allowed.
 */

import type { ResolvedFit, ResolvedSchedule } from './engine';
import type {
  Activation,
  AnnealStrategy,
  FitOptions,
  LayerWeights,
  Loss,
  MlpOptions,
  OneCycleOptions,
  Targets,
} from './types';

type OptionBag = Record<string, unknown>;
type LabelArray = Exclude<Targets, Float32Array>;

const ACTIVATIONS: readonly Activation[] = [
  'relu',
  'leaky_relu',
  'tanh',
  'sigmoid',
  'gelu',
  'identity',
];
const LOSSES: readonly Loss[] = ['mse', 'cross_entropy', 'bce_with_logits'];
const ANNEAL_STRATEGIES: readonly AnnealStrategy[] = ['cos', 'linear'];

const CYCLE_KEYS = [
  'maxLr',
  'totalSteps',
  'pctStart',
  'annealStrategy',
  'cycleMomentum',
  'baseMomentum',
  'maxMomentum',
  'divFactor',
  'finalDivFactor',
  'threePhase',
] as const;
const ONE_CYCLE_KEYS = [
  ...CYCLE_KEYS,
  'epochs',
  'stepsPerEpoch',
  'lastEpoch',
  'groups',
  'backend',
] as const;
const FIT_KEYS = [
  'epochs',
  'batchSize',
  'loss',
  'optimizer',
  'schedule',
  'shuffle',
  'seed',
  'dropLast',
  'validation',
  'onEpoch',
  'signal',
  'recordSteps',
] as const;
const OPTIMIZER_KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'] as const;
const MLP_KEYS = ['layers', 'activation', 'seed', 'threads', 'backend'] as const;

const TWO_POW_32 = 4_294_967_296;
const INTEGER_ARRAY_NAMES = 'Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array or Uint8Array';

// ---------------------------------------------------------------------------
// Messages

/** Describes a value for an error message: numbers, strings and short
 * numeric arrays as written, anything else by its type. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' ? 'a function' : String(value);
  }
  if (Array.isArray(value)) {
    const short = value.length <= 8 && value.every((item) => typeof item === 'number');
    return short ? `[${value.join(', ')}]` : `an array of length ${value.length}`;
  }
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const article = /^[AEIO]/.test(name) ? 'an' : 'a';
    const size = 'length' in value ? `of length ${value.length}` : `of ${value.byteLength} bytes`;
    return `${article} ${name} ${size}`;
  }
  return 'an object';
}

/** Formats choices as `'a', 'b' or 'c'`. */
function listChoices(choices: readonly string[]): string {
  const quoted = choices.map((choice) => `'${choice}'`);
  return quoted.length === 1
    ? quoted[0]
    : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

// ---------------------------------------------------------------------------
// Scalar checks

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

function isSeed(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < TWO_POW_32;
}

function isNonNegative(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

function isPositive(value: number): boolean {
  return Number.isFinite(value) && value > 0;
}

function isUnitInterval(value: number): boolean {
  return value >= 0 && value <= 1;
}

/** Checks that `value` is a number passing `valid`: a non-number throws a
 * `TypeError`, a failing number a `RangeError`, both saying
 * "`name` must be `expected`, got `value`." */
function checkNumber(
  value: unknown,
  name: string,
  expected: string,
  valid: (value: number) => boolean,
): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be ${expected}, got ${describe(value)}.`);
  }
  if (!valid(value)) {
    throw new RangeError(`${name} must be ${expected}, got ${describe(value)}.`);
  }
  return value;
}

/** Like {@link checkNumber}, returning `fallback` when `value` is
 * undefined. */
function optionalNumber(
  value: unknown,
  fallback: number,
  name: string,
  expected: string,
  valid: (value: number) => boolean,
): number {
  return value === undefined ? fallback : checkNumber(value, name, expected, valid);
}

/** Largest count the native binding takes (an unsigned 32-bit integer):
 * epochs, batch sizes, step counts and layer widths. */
const MAX_COUNT = 2 ** 32 - 1;

/** Largest weight matrix of one layer, 2^28 weights (1 GiB of float32),
 * the same cap as the Rust core's. */
export const MAX_LAYER_PARAMETERS = 2 ** 28;

/** Cap on worker threads, against runaway thread creation; not a tuning
 * value. */
export const MAX_THREADS = 256;

/** Cap on schedule parameter groups. */
const MAX_GROUPS = 1024;

function positiveInteger(value: unknown, name: string, max = MAX_COUNT): number {
  checkNumber(value, name, 'a positive integer', isPositiveInteger);
  if ((value as number) > max) {
    throw new RangeError(`${name} must be at most ${max}, got ${describe(value)}.`);
  }
  return value as number;
}

function seedOption(value: unknown, name: string): number {
  return optionalNumber(value, 0, name, 'an integer in [0, 2^32)', isSeed);
}

function optionalBoolean(value: unknown, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name} must be true or false, got ${describe(value)}.`);
  }
  return value;
}

function optionalChoice<T extends string>(
  value: unknown,
  fallback: T,
  name: string,
  choices: readonly T[],
): T {
  if (value === undefined) return fallback;
  const expected = `${name} must be ${listChoices(choices)}, got ${describe(value)}.`;
  if (typeof value !== 'string') throw new TypeError(expected);
  if (!(choices as readonly string[]).includes(value)) throw new RangeError(expected);
  return value as T;
}

// ---------------------------------------------------------------------------
// Option objects

function checkObject(value: unknown, name: string): OptionBag {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, got ${describe(value)}.`);
  }
  return value as OptionBag;
}

/** Rejects keys outside `allowed`, suggesting the allowed key that
 * differs only in case or underscores (`max_lr` for `maxLr`). */
function checkKeys(options: OptionBag, allowed: readonly string[], where: string): void {
  const simplify = (key: string) => key.toLowerCase().replaceAll('_', '');
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const match = allowed.find((candidate) => simplify(candidate) === simplify(key));
    const hint = match
      ? `did you mean "${match}"?`
      : `the options are ${allowed.join(', ')}.`;
    throw new TypeError(`Unknown option "${key}" in ${where}; ${hint}`);
  }
}

// ---------------------------------------------------------------------------
// OneCycleLR

/** Expands a per-group option to `groups` values, each finite and >= 0. */
function perGroup(value: unknown, name: string, groups: number): number[] {
  const expected = 'a finite number >= 0';
  if (typeof value === 'number') {
    return new Array<number>(groups).fill(checkNumber(value, name, expected, isNonNegative));
  }
  if (!Array.isArray(value)) {
    throw new TypeError(
      `${name} must be a number or an array of numbers, one per parameter group, got ${describe(value)}.`,
    );
  }
  if (value.length !== groups) {
    const noun = groups === 1 ? 'value' : 'values';
    throw new RangeError(
      `Expected ${groups} ${noun} for ${name}, one per parameter group, got ${value.length}.`,
    );
  }
  return value.map((item, i) => checkNumber(item, `${name}[${i}]`, expected, isNonNegative));
}

/** Returns the number of parameter groups: `groups` when given, else the
 * length of `maxLr` when it is an array, else 1. */
function resolveGroups(maxLr: unknown, groups: unknown, prefix: string): number {
  if (groups !== undefined) return positiveInteger(groups, `${prefix}groups`, MAX_GROUPS);
  if (Array.isArray(maxLr)) {
    if (maxLr.length === 0) {
      throw new RangeError(
        `${prefix}maxLr must be a number or a non-empty array of numbers, got [].`,
      );
    }
    return maxLr.length;
  }
  return 1;
}

/** Resolves the options that shape the cycle, everything but its length
 * and starting index. */
function resolveCycleShape(
  options: OptionBag,
  prefix: string,
  totalSteps: number,
  groups: number,
): ResolvedSchedule {
  const pctStart = optionalNumber(
    options.pctStart,
    0.3,
    `${prefix}pctStart`,
    'a number in [0, 1]',
    isUnitInterval,
  );
  const annealStrategy = optionalChoice(
    options.annealStrategy,
    'cos',
    `${prefix}annealStrategy`,
    ANNEAL_STRATEGIES,
  );
  if (options.maxLr === undefined) {
    throw new TypeError(
      `${prefix}maxLr is missing: give the peak learning rate, a number or one per parameter group.`,
    );
  }
  const maxLr = perGroup(options.maxLr, `${prefix}maxLr`, groups);
  const baseMomentum = perGroup(options.baseMomentum ?? 0.85, `${prefix}baseMomentum`, groups);
  const maxMomentum = perGroup(options.maxMomentum ?? 0.95, `${prefix}maxMomentum`, groups);
  const positive = 'a finite number > 0';
  return {
    maxLr,
    totalSteps,
    pctStart,
    annealStrategy,
    cycleMomentum: optionalBoolean(options.cycleMomentum, true, `${prefix}cycleMomentum`),
    baseMomentum,
    maxMomentum,
    divFactor: optionalNumber(options.divFactor, 25, `${prefix}divFactor`, positive, isPositive),
    finalDivFactor: optionalNumber(
      options.finalDivFactor,
      1e4,
      `${prefix}finalDivFactor`,
      positive,
      isPositive,
    ),
    threePhase: optionalBoolean(options.threePhase, false, `${prefix}threePhase`),
    lastEpoch: -1,
  };
}

/** Returns the cycle length: `totalSteps` when given (PyTorch then ignores
 * `epochs` and `stepsPerEpoch`), else `epochs * stepsPerEpoch`. */
function resolveTotalSteps(options: OptionBag): number {
  const { totalSteps, epochs, stepsPerEpoch } = options;
  const epochCount = epochs === undefined ? undefined : positiveInteger(epochs, 'epochs');
  const perEpoch =
    stepsPerEpoch === undefined ? undefined : positiveInteger(stepsPerEpoch, 'stepsPerEpoch');
  if (totalSteps !== undefined) return positiveInteger(totalSteps, 'totalSteps');

  if (epochCount !== undefined && perEpoch !== undefined) {
    const product = epochCount * perEpoch;
    if (!Number.isSafeInteger(product)) {
      throw new RangeError(
        `epochs * stepsPerEpoch = ${epochCount} * ${perEpoch} is too large; give totalSteps instead.`,
      );
    }
    return product;
  }
  if (epochCount !== undefined) {
    throw new TypeError(
      `stepsPerEpoch is missing: epochs is ${epochCount}, so give stepsPerEpoch too, or give totalSteps instead.`,
    );
  }
  if (perEpoch !== undefined) {
    throw new TypeError(
      `epochs is missing: stepsPerEpoch is ${perEpoch}, so give epochs too, or give totalSteps instead.`,
    );
  }
  throw new TypeError(
    'The schedule length is missing: give totalSteps, or both epochs and stepsPerEpoch.',
  );
}

/**
 * Validates the options of `OneCycleLR` and fills in PyTorch's defaults,
 * expanding `maxLr`, `baseMomentum` and `maxMomentum` to one value per
 * parameter group.
 *
 * Beyond PyTorch's checks, this rejects non-finite values, `maxLr < 0`,
 * negative momenta, `divFactor <= 0`, `finalDivFactor <= 0` and
 * `lastEpoch` outside [-1, totalSteps), and validates the momenta even when
 * `cycleMomentum` is false. It accepts `pctStart` 0 (PyTorch rejects the
 * integer 0 but accepts 0.0), `maxLr` 0 and `baseMomentum > maxMomentum`,
 * as PyTorch does.
 */
export function resolveOneCycle(options: OneCycleOptions): ResolvedSchedule {
  const bag = checkObject(options, 'OneCycleLR options');
  checkKeys(bag, ONE_CYCLE_KEYS, 'the OneCycleLR options');
  const totalSteps = resolveTotalSteps(bag);
  const groups = resolveGroups(bag.maxLr, bag.groups, '');
  const resolved = resolveCycleShape(bag, '', totalSteps, groups);
  resolved.lastEpoch = optionalNumber(
    bag.lastEpoch,
    -1,
    'lastEpoch',
    `an integer in [-1, ${totalSteps - 1}] (totalSteps is ${totalSteps})`,
    (value) => Number.isInteger(value) && value >= -1 && value < totalSteps,
  );
  return resolved;
}

// ---------------------------------------------------------------------------
// Data

/** Finds the first NaN or infinite value and returns its index, or -1. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    // value - value is NaN exactly when value is NaN or infinite.
    if (value - value !== 0) return i;
  }
  return -1;
}

function isLabelArray(value: unknown): value is LabelArray {
  return (
    value instanceof Int32Array ||
    value instanceof Uint32Array ||
    value instanceof Int16Array ||
    value instanceof Uint16Array ||
    value instanceof Int8Array ||
    value instanceof Uint8Array
  );
}

/**
 * Checks a feature matrix against the model's input width and returns its
 * row count: `x` must be a `Float32Array` of `rows * layers[0]` finite
 * values. Zero rows are allowed here; `fit` and `evaluate` reject them.
 */
export function resolveInputs(layers: readonly number[], x: Float32Array, name: string): number {
  const inputs = layers[0];
  if (!(x instanceof Float32Array)) {
    throw new TypeError(
      `${name} must be a Float32Array of rows * ${inputs} values, got ${describe(x)}; ` +
        'convert it with Float32Array.from().',
    );
  }
  if (x.length % inputs !== 0) {
    throw new RangeError(
      `${name} has ${x.length} values, which is not a multiple of the model's ${inputs} ` +
        `inputs (layers[0]); give rows * ${inputs} values, row-major.`,
    );
  }
  const bad = firstNonFinite(x);
  if (bad >= 0) {
    const row = Math.floor(bad / inputs);
    throw new RangeError(
      `${name} contains ${x[bad]} at row ${row}, column ${bad - row * inputs}; ` +
        'remove or impute non-finite values first.',
    );
  }
  return x.length / inputs;
}

function requireRows(rows: number, name: string, operation: string): void {
  if (rows === 0) {
    throw new RangeError(`${name} has no rows; ${operation} needs at least one sample.`);
  }
}

/** Returns the loss to use: the explicit `loss`, else `cross_entropy`
 * for integer labels and `mse` for `Float32Array` targets. */
function resolveLoss(loss: unknown, y: unknown, name: string): Loss {
  if (loss !== undefined) return optionalChoice(loss, 'mse', 'loss', LOSSES);
  if (isLabelArray(y)) return 'cross_entropy';
  if (y instanceof Float32Array) return 'mse';
  throw new TypeError(
    `${name} must be a Float32Array of targets or an integer typed array of class labels ` +
      `(${INTEGER_ARRAY_NAMES}), got ${describe(y)}.`,
  );
}

/** Checks class labels and returns them as an `Int32Array`, copying only
 * when they come in another integer type. */
function resolveLabels(y: unknown, rows: number, outputs: number, name: string): Int32Array {
  if (!isLabelArray(y)) {
    throw new TypeError(
      `loss 'cross_entropy' needs integer class labels (${INTEGER_ARRAY_NAMES}), ` +
        `but ${name} is ${describe(y)}.`,
    );
  }
  if (outputs < 2) {
    throw new RangeError(
      `loss 'cross_entropy' needs at least 2 outputs, but the model has ${outputs}; ` +
        "use 'bce_with_logits' for a single output.",
    );
  }
  if (y.length !== rows) {
    throw new RangeError(
      `${name} has ${y.length} labels, but there are ${rows} rows; give one label per row.`,
    );
  }
  for (let row = 0; row < rows; row++) {
    const label = y[row];
    if (label < 0 || label >= outputs) {
      throw new RangeError(
        `${name} has label ${label} at row ${row}, but the model has ${outputs} outputs, ` +
          `so labels must be in [0, ${outputs}).`,
      );
    }
  }
  return y instanceof Int32Array ? y : Int32Array.from(y);
}

/** Checks float targets: `rows * outputs` finite values, in [0, 1] for
 * `bce_with_logits`. */
function resolveValues(
  y: unknown,
  rows: number,
  outputs: number,
  loss: Loss,
  name: string,
): Float32Array {
  if (!(y instanceof Float32Array)) {
    throw new TypeError(
      `loss '${loss}' needs a Float32Array of rows * ${outputs} targets, but ${name} is ` +
        `${describe(y)}.`,
    );
  }
  if (y.length !== rows * outputs) {
    throw new RangeError(
      `${name} has ${y.length} values, but there are ${rows} rows and the model has ` +
        `${outputs} outputs, so ${name} needs ${rows * outputs} values.`,
    );
  }
  const bad = firstNonFinite(y);
  if (bad >= 0) {
    const row = Math.floor(bad / outputs);
    throw new RangeError(
      `${name} contains ${y[bad]} at row ${row}, column ${bad - row * outputs}; ` +
        'remove or impute non-finite values first.',
    );
  }
  if (loss === 'bce_with_logits') {
    for (let i = 0; i < y.length; i++) {
      if (y[i] < 0 || y[i] > 1) {
        const row = Math.floor(i / outputs);
        throw new RangeError(
          `${name} contains ${y[i]} at row ${row}, column ${i - row * outputs}, but ` +
            "loss 'bce_with_logits' needs targets in [0, 1].",
        );
      }
    }
  }
  return y;
}

function resolveTargets(
  layers: readonly number[],
  y: unknown,
  rows: number,
  loss: Loss,
  name: string,
): Float32Array | Int32Array {
  const outputs = layers[layers.length - 1];
  return loss === 'cross_entropy'
    ? resolveLabels(y, rows, outputs, name)
    : resolveValues(y, rows, outputs, loss, name);
}

/** Checks a data set for `evaluate` and resolves its loss, inferred from
 * the target type when not given. */
export function resolveEvaluate(
  layers: readonly number[],
  x: Float32Array,
  y: Targets,
  loss?: Loss,
): { rows: number; targets: Float32Array | Int32Array; loss: Loss } {
  const rows = resolveInputs(layers, x, 'x');
  requireRows(rows, 'x', 'evaluate');
  const resolvedLoss = resolveLoss(loss, y, 'y');
  return { rows, targets: resolveTargets(layers, y, rows, resolvedLoss, 'y'), loss: resolvedLoss };
}

// ---------------------------------------------------------------------------
// fit

function resolveOptimizer(value: unknown) {
  const bag = value === undefined ? {} : checkObject(value, 'optimizer');
  checkKeys(bag, OPTIMIZER_KEYS, 'optimizer');
  const nonNegative = 'a finite number >= 0';
  return {
    lr: optionalNumber(bag.lr, 0.001, 'optimizer.lr', nonNegative, isNonNegative),
    momentum: optionalNumber(bag.momentum, 0, 'optimizer.momentum', nonNegative, isNonNegative),
    dampening: optionalNumber(
      bag.dampening,
      0,
      'optimizer.dampening',
      'a number in [0, 1]',
      isUnitInterval,
    ),
    nesterov: optionalBoolean(bag.nesterov, false, 'optimizer.nesterov'),
    weightDecay: optionalNumber(
      bag.weightDecay,
      0,
      'optimizer.weightDecay',
      nonNegative,
      isNonNegative,
    ),
  };
}

/** Resolves `fit`'s schedule for a run of `runSteps` optimizer steps;
 * `totalSteps` defaults to the run length and may not be shorter. */
function resolveFitSchedule(
  value: unknown,
  runSteps: number,
  epochs: number,
  perEpoch: number,
): ResolvedSchedule | null {
  if (value === undefined || value === null) return null;
  const bag = checkObject(value, 'schedule');
  checkKeys(bag, CYCLE_KEYS, 'schedule');
  let totalSteps = runSteps;
  if (bag.totalSteps !== undefined) {
    totalSteps = positiveInteger(bag.totalSteps, 'schedule.totalSteps');
    if (totalSteps < runSteps) {
      throw new RangeError(
        `schedule.totalSteps is ${totalSteps}, but the run has ${runSteps} steps ` +
          `(${epochs} epochs of ${perEpoch} batches); give at least ${runSteps} or leave ` +
          'schedule.totalSteps out.',
      );
    }
  }
  return resolveCycleShape(bag, 'schedule.', totalSteps, 1);
}

function resolveValidation(
  value: unknown,
  layers: readonly number[],
  loss: Loss,
): ResolvedFit['validation'] {
  if (value === undefined) return null;
  const bag = checkObject(value, 'validation');
  checkKeys(bag, ['x', 'y'], 'validation');
  const rows = resolveInputs(layers, bag.x as Float32Array, 'validation.x');
  requireRows(rows, 'validation.x', 'validation');
  const y = resolveTargets(layers, bag.y, rows, loss, 'validation.y');
  return { x: bag.x as Float32Array, rows, y };
}

function checkCallbacks(bag: OptionBag): void {
  if (bag.onEpoch !== undefined && typeof bag.onEpoch !== 'function') {
    throw new TypeError(`onEpoch must be a function, got ${describe(bag.onEpoch)}.`);
  }
  const signal = bag.signal as { aborted?: unknown; addEventListener?: unknown } | undefined;
  if (
    signal !== undefined &&
    (typeof signal !== 'object' ||
      signal === null ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function')
  ) {
    throw new TypeError(`signal must be an AbortSignal, got ${describe(signal)}.`);
  }
}

/**
 * Validates the options and data of `fit` and fills in the defaults. The
 * loss is inferred from `y` when not given; labels come back as an
 * `Int32Array`. The schedule's `totalSteps` defaults to
 * `epochs * stepsPerEpoch`, with `stepsPerEpoch` from the row count, the
 * batch size and `dropLast`.
 */
export function resolveFit(
  options: FitOptions,
  layers: readonly number[],
  x: Float32Array,
  y: Targets,
): { rows: number; targets: Float32Array | Int32Array; fit: ResolvedFit } {
  const bag = checkObject(options, 'fit options');
  checkKeys(bag, FIT_KEYS, 'the fit options');
  const epochs = positiveInteger(bag.epochs, 'epochs');
  const batchSize =
    bag.batchSize === undefined ? 32 : positiveInteger(bag.batchSize, 'batchSize');
  const shuffle = optionalBoolean(bag.shuffle, true, 'shuffle');
  const seed = seedOption(bag.seed, 'seed');
  const dropLast = optionalBoolean(bag.dropLast, false, 'dropLast');
  const recordSteps = optionalBoolean(bag.recordSteps, false, 'recordSteps');
  const optimizer = resolveOptimizer(bag.optimizer);
  checkCallbacks(bag);

  const rows = resolveInputs(layers, x, 'x');
  requireRows(rows, 'x', 'fit');
  const loss = resolveLoss(bag.loss, y, 'y');
  const targets = resolveTargets(layers, y, rows, loss, 'y');

  if (dropLast && batchSize > rows) {
    throw new RangeError(
      `batchSize ${batchSize} is larger than the ${rows} training rows, so dropLast leaves ` +
        'no batches; lower batchSize or set dropLast to false.',
    );
  }
  const perEpoch = dropLast ? Math.floor(rows / batchSize) : Math.ceil(rows / batchSize);
  if (epochs * perEpoch > MAX_COUNT) {
    throw new RangeError(
      `epochs ${epochs} with ${perEpoch} steps per epoch make ${epochs * perEpoch} steps, ` +
        `more than ${MAX_COUNT}; lower epochs.`,
    );
  }
  const widest = Math.max(...layers);
  const batchValues = Math.min(batchSize, rows) * widest;
  if (batchValues > MAX_LAYER_PARAMETERS) {
    throw new RangeError(
      `batchSize ${batchSize} with a layer of width ${widest} needs ${batchValues} values per ` +
        `activation buffer, more than ${MAX_LAYER_PARAMETERS}; lower batchSize.`,
    );
  }
  const schedule = resolveFitSchedule(bag.schedule, epochs * perEpoch, epochs, perEpoch);

  // PyTorch's SGD rule; a cycling schedule supplies the momentum.
  const hasMomentum = schedule?.cycleMomentum
    ? Math.min(schedule.baseMomentum[0], schedule.maxMomentum[0]) > 0
    : optimizer.momentum > 0;
  if (optimizer.nesterov && (!hasMomentum || optimizer.dampening !== 0)) {
    throw new RangeError(
      'Nesterov momentum requires a momentum and zero dampening: got optimizer.momentum ' +
        `${optimizer.momentum} and optimizer.dampening ${optimizer.dampening}. Set ` +
        'optimizer.momentum > 0 (or use a schedule that cycles momentum) and dampening 0.',
    );
  }

  const validation = resolveValidation(bag.validation, layers, loss);
  const fit: ResolvedFit = {
    epochs,
    batchSize,
    loss,
    ...optimizer,
    schedule,
    shuffle,
    seed,
    dropLast,
    validation,
    recordSteps,
  };
  return { rows, targets, fit };
}

// ---------------------------------------------------------------------------
// Mlp

/** Validates the options of `Mlp` and fills in the defaults. */
export function resolveMlpOptions(options: MlpOptions): {
  layers: number[];
  activation: Activation;
  seed: number;
  threads: number | undefined;
} {
  const bag = checkObject(options, 'Mlp options');
  checkKeys(bag, MLP_KEYS, 'the Mlp options');
  const layers = bag.layers;
  if (!Array.isArray(layers)) {
    throw new TypeError(
      `layers must be an array of layer widths such as [784, 128, 10], got ${describe(layers)}.`,
    );
  }
  if (layers.length < 2) {
    throw new RangeError(
      `layers must list at least 2 widths, the inputs and the outputs, got ${describe(layers)}.`,
    );
  }
  layers.forEach((width, i) => positiveInteger(width, `layers[${i}]`));
  checkLayerSizes(layers as number[]);
  return {
    layers: [...(layers as number[])],
    activation: optionalChoice(bag.activation, 'relu', 'activation', ACTIVATIONS),
    seed: seedOption(bag.seed, 'seed'),
    threads:
      bag.threads === undefined ? undefined : positiveInteger(bag.threads, 'threads', MAX_THREADS),
  };
}

/** Rejects a layer whose weight matrix would exceed
 * {@link MAX_LAYER_PARAMETERS}, before either engine allocates it. */
function checkLayerSizes(layers: number[]): void {
  for (let l = 0; l + 1 < layers.length; l++) {
    const weights = layers[l] * layers[l + 1];
    if (weights > MAX_LAYER_PARAMETERS) {
      throw new RangeError(
        `layer ${l} (${layers[l]} inputs, ${layers[l + 1]} outputs) would have ${weights} weights, ` +
          `more than the ${MAX_LAYER_PARAMETERS} (1 GiB of float32) one layer may have; use narrower layers.`,
      );
    }
  }
}

function checkFloatArray(
  value: unknown,
  name: string,
  length: number,
  layer: number,
  layers: readonly number[],
): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new TypeError(`${name} must be a Float32Array, got ${describe(value)}.`);
  }
  if (value.length !== length) {
    throw new RangeError(
      `${name} has ${value.length} values, but layer ${layer} maps ${layers[layer]} inputs ` +
        `to ${layers[layer + 1]} outputs, so it needs ${length}.`,
    );
  }
  return value;
}

/**
 * Checks weights for `setWeights`: one entry per layer, each with a
 * `[out][in]` row-major `weight`, an `out`-value `bias` and `shape`
 * `[out, in]` matching the model, all finite.
 */
export function resolveWeights(layers: readonly number[], weights: LayerWeights[]): void {
  const count = layers.length - 1;
  if (!Array.isArray(weights)) {
    throw new TypeError(`weights must be an array with one entry per layer, got ${describe(weights)}.`);
  }
  if (weights.length !== count) {
    throw new RangeError(
      `weights has ${weights.length} entries, but the model [${layers.join(', ')}] has ` +
        `${count} layers.`,
    );
  }
  weights.forEach((entry, l) => {
    const fanIn = layers[l];
    const fanOut = layers[l + 1];
    const bag = checkObject(entry, `weights[${l}]`);
    const shape = bag.shape;
    if (
      !Array.isArray(shape) ||
      shape.length !== 2 ||
      shape[0] !== fanOut ||
      shape[1] !== fanIn
    ) {
      throw new RangeError(
        `weights[${l}].shape is ${describe(shape)}, but layer ${l} maps ${fanIn} inputs to ` +
          `${fanOut} outputs, so its shape is [${fanOut}, ${fanIn}].`,
      );
    }
    const weight = checkFloatArray(bag.weight, `weights[${l}].weight`, fanOut * fanIn, l, layers);
    const bias = checkFloatArray(bag.bias, `weights[${l}].bias`, fanOut, l, layers);
    const badWeight = firstNonFinite(weight);
    if (badWeight >= 0) {
      const row = Math.floor(badWeight / fanIn);
      throw new RangeError(
        `weights[${l}].weight contains ${weight[badWeight]} at row ${row}, column ` +
          `${badWeight - row * fanIn} of layer ${l}; weights must be finite.`,
      );
    }
    const badBias = firstNonFinite(bias);
    if (badBias >= 0) {
      throw new RangeError(
        `weights[${l}].bias contains ${bias[badBias]} at index ${badBias} of layer ${l}; ` +
          'weights must be finite.',
      );
    }
  });
}
