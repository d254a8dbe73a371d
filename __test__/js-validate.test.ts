import { describe, expect, it } from 'vitest';
import type { FitOptions, LayerWeights, MlpOptions, OneCycleOptions, Targets } from '../ts/types';
import {
  describe as describeValue,
  resolveEvaluate,
  resolveFit,
  resolveInputs,
  resolveMlpOptions,
  resolveOneCycle,
  resolveWeights,
} from '../ts/validate';

type ErrorClass = typeof TypeError | typeof RangeError;

/** Checks that `run` throws exactly `type` with a message matching
 * `message`. */
function expectError(run: () => unknown, type: ErrorClass, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${type.name} matching ${message}`).toBeInstanceOf(type);
  expect((caught as Error).constructor).toBe(type);
  expect((caught as Error).message).toMatch(message);
}

const cycle = (options: Partial<OneCycleOptions>) =>
  resolveOneCycle({ maxLr: 0.1, totalSteps: 10, ...options } as OneCycleOptions);

describe('resolveOneCycle', () => {
  it('fills in PyTorch defaults', () => {
    expect(resolveOneCycle({ maxLr: 0.1, totalSteps: 10 })).toEqual({
      maxLr: [0.1],
      totalSteps: 10,
      pctStart: 0.3,
      annealStrategy: 'cos',
      cycleMomentum: true,
      baseMomentum: [0.85],
      maxMomentum: [0.95],
      divFactor: 25,
      finalDivFactor: 1e4,
      threePhase: false,
      lastEpoch: -1,
    });
  });

  it('expands scalars to the group count', () => {
    const resolved = resolveOneCycle({ maxLr: 0.1, totalSteps: 5, groups: 3, maxMomentum: [0.9, 0.8, 0.7] });
    expect(resolved.maxLr).toEqual([0.1, 0.1, 0.1]);
    expect(resolved.baseMomentum).toEqual([0.85, 0.85, 0.85]);
    expect(resolved.maxMomentum).toEqual([0.9, 0.8, 0.7]);
    expect(resolveOneCycle({ maxLr: [0.1, 0.2], totalSteps: 5 }).baseMomentum).toEqual([0.85, 0.85]);
  });

  it('takes the length from epochs and stepsPerEpoch', () => {
    expect(resolveOneCycle({ maxLr: 0.1, epochs: 3, stepsPerEpoch: 4 }).totalSteps).toBe(12);
    expect(resolveOneCycle({ maxLr: 0.1, totalSteps: 7, epochs: 3, stepsPerEpoch: 4 }).totalSteps).toBe(7);
  });

  it('accepts what PyTorch accepts', () => {
    expect(cycle({ baseMomentum: 0.95, maxMomentum: 0.85 }).baseMomentum).toEqual([0.95]);
    expect(cycle({ maxLr: 0 }).maxLr).toEqual([0]);
    expect(cycle({ pctStart: 0 }).pctStart).toBe(0);
    expect(cycle({ pctStart: 1 }).pctStart).toBe(1);
    expect(cycle({ lastEpoch: 9 }).lastEpoch).toBe(9);
  });

  it('rejects a missing length', () => {
    expectError(() => resolveOneCycle({ maxLr: 0.1 }), TypeError, /give totalSteps, or both epochs and stepsPerEpoch/);
    expectError(
      () => resolveOneCycle({ maxLr: 0.1, epochs: 3 }),
      TypeError,
      /stepsPerEpoch is missing: epochs is 3, so give stepsPerEpoch too, or give totalSteps instead\./,
    );
    expectError(
      () => resolveOneCycle({ maxLr: 0.1, stepsPerEpoch: 4 }),
      TypeError,
      /epochs is missing: stepsPerEpoch is 4/,
    );
  });

  it('rejects a bad totalSteps, naming the value', () => {
    expectError(() => cycle({ totalSteps: 0 }), RangeError, /^totalSteps must be a positive integer, got 0\.$/);
    expectError(() => cycle({ totalSteps: -3 }), RangeError, /got -3\./);
    expectError(() => cycle({ totalSteps: 2.5 }), RangeError, /got 2\.5\./);
    expectError(() => cycle({ totalSteps: NaN }), RangeError, /got NaN\./);
    expectError(() => cycle({ totalSteps: true as never }), TypeError, /totalSteps must be a positive integer, got true\./);
    expectError(() => cycle({ totalSteps: '10' as never }), TypeError, /got "10"\./);
    expectError(() => resolveOneCycle({ maxLr: 0.1, epochs: 0, stepsPerEpoch: 4 }), RangeError, /epochs must be a positive integer, got 0\./);
    expectError(
      () => resolveOneCycle({ maxLr: 0.1, epochs: 2, stepsPerEpoch: 1.5 }),
      RangeError,
      /stepsPerEpoch must be a positive integer, got 1\.5\./,
    );
  });

  it('rejects pctStart outside [0, 1]', () => {
    expectError(() => cycle({ pctStart: 1.5 }), RangeError, /^pctStart must be a number in \[0, 1\], got 1\.5\.$/);
    expectError(() => cycle({ pctStart: -0.1 }), RangeError, /got -0\.1\./);
    expectError(() => cycle({ pctStart: NaN }), RangeError, /got NaN\./);
    expectError(() => cycle({ pctStart: '0.3' as never }), TypeError, /pctStart.*got "0\.3"\./);
  });

  it('rejects an unknown annealStrategy', () => {
    expectError(
      () => cycle({ annealStrategy: 'cosine' as never }),
      RangeError,
      /^annealStrategy must be 'cos' or 'linear', got "cosine"\.$/,
    );
    expectError(() => cycle({ annealStrategy: 1 as never }), TypeError, /annealStrategy.*got 1\./);
  });

  it('rejects bad learning rates and factors', () => {
    expectError(() => cycle({ maxLr: -0.1 }), RangeError, /^maxLr must be a finite number >= 0, got -0\.1\.$/);
    expectError(() => cycle({ maxLr: Infinity }), RangeError, /maxLr must be a finite number >= 0, got Infinity\./);
    expectError(() => cycle({ maxLr: [0.1, NaN] }), RangeError, /maxLr\[1\] must be a finite number >= 0, got NaN\./);
    expectError(() => cycle({ maxLr: [] }), RangeError, /maxLr must be a number or a non-empty array of numbers, got \[\]\./);
    expectError(() => cycle({ maxLr: '0.1' as never }), TypeError, /maxLr must be a number or an array of numbers.*got "0\.1"\./);
    expectError(() => resolveOneCycle({ totalSteps: 10 } as never), TypeError, /maxLr is missing/);
    expectError(() => cycle({ divFactor: 0 }), RangeError, /^divFactor must be a finite number > 0, got 0\.$/);
    expectError(() => cycle({ divFactor: -5 }), RangeError, /divFactor.*got -5\./);
    expectError(() => cycle({ finalDivFactor: 0 }), RangeError, /^finalDivFactor must be a finite number > 0, got 0\.$/);
    expectError(() => cycle({ finalDivFactor: Infinity }), RangeError, /finalDivFactor.*got Infinity\./);
  });

  it('rejects bad momenta', () => {
    expectError(() => cycle({ baseMomentum: -0.1 }), RangeError, /^baseMomentum must be a finite number >= 0, got -0\.1\.$/);
    expectError(() => cycle({ maxMomentum: NaN }), RangeError, /maxMomentum must be a finite number >= 0, got NaN\./);
    expectError(() => cycle({ cycleMomentum: 'yes' as never }), TypeError, /^cycleMomentum must be true or false, got "yes"\.$/);
    expectError(() => cycle({ threePhase: 1 as never }), TypeError, /threePhase must be true or false, got 1\./);
  });

  it('rejects per-group lists of the wrong length', () => {
    expectError(
      () => cycle({ maxLr: [0.1, 0.01], baseMomentum: [0.85] }),
      RangeError,
      /^Expected 2 values for baseMomentum, one per parameter group, got 1\.$/,
    );
    expectError(() => cycle({ maxLr: [0.1, 0.01], groups: 3 }), RangeError, /Expected 3 values for maxLr, one per parameter group, got 2\./);
    expectError(() => cycle({ groups: 0 }), RangeError, /^groups must be a positive integer, got 0\.$/);
    expectError(() => cycle({ groups: 1.5 }), RangeError, /groups.*got 1\.5\./);
  });

  it('rejects lastEpoch outside [-1, totalSteps)', () => {
    expectError(
      () => cycle({ lastEpoch: 10 }),
      RangeError,
      /^lastEpoch must be an integer in \[-1, 9\] \(totalSteps is 10\), got 10\.$/,
    );
    expectError(() => cycle({ lastEpoch: -2 }), RangeError, /lastEpoch.*got -2\./);
    expectError(() => cycle({ lastEpoch: 0.5 }), RangeError, /lastEpoch.*got 0\.5\./);
  });

  it('rejects unknown options, suggesting the camelCase name', () => {
    expectError(
      () => resolveOneCycle({ max_lr: 0.1, totalSteps: 10 } as never),
      TypeError,
      /^Unknown option "max_lr" in the OneCycleLR options; did you mean "maxLr"\?$/,
    );
    expectError(() => cycle({ warmup: 3 } as never), TypeError, /Unknown option "warmup".*the options are maxLr, totalSteps/);
    expectError(() => resolveOneCycle(null as never), TypeError, /OneCycleLR options must be an object, got null\./);
  });
});

// ---------------------------------------------------------------------------

const layers = [4, 8, 3];
const x = Float32Array.from({ length: 40 }, (_, i) => (i % 7) / 7);
const labels = Int32Array.from({ length: 10 }, (_, i) => i % 3);
const values = Float32Array.from({ length: 30 }, (_, i) => (i % 5) / 5);

const fitWith = (options: Partial<FitOptions>, data: { x?: unknown; y?: unknown } = {}) =>
  resolveFit(
    { epochs: 1, ...options } as FitOptions,
    layers,
    (data.x ?? x) as Float32Array,
    (data.y ?? labels) as Targets,
  );

describe('resolveFit', () => {
  it('fills in defaults and infers the loss', () => {
    const { rows, targets, fit } = fitWith({});
    expect(rows).toBe(10);
    expect(targets).toBe(labels);
    expect(fit).toEqual({
      epochs: 1,
      batchSize: 32,
      loss: 'cross_entropy',
      lr: 0.001,
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
      schedule: null,
      shuffle: true,
      seed: 0,
      dropLast: false,
      validation: null,
      recordSteps: false,
    });
    expect(fitWith({}, { y: values }).fit.loss).toBe('mse');
  });

  it('converts other integer labels to Int32Array', () => {
    const bytes = Uint8Array.from(labels);
    const { targets } = fitWith({}, { y: bytes });
    expect(targets).toBeInstanceOf(Int32Array);
    expect(Array.from(targets)).toEqual(Array.from(labels));
  });

  it('sizes the schedule from the run', () => {
    const run = (options: Partial<FitOptions>) => fitWith({ schedule: { maxLr: 0.1 }, ...options }).fit.schedule!;
    expect(run({ epochs: 3, batchSize: 4 }).totalSteps).toBe(9);
    expect(run({ epochs: 3, batchSize: 4, dropLast: true }).totalSteps).toBe(6);
    expect(fitWith({ epochs: 2, schedule: { maxLr: 0.1, totalSteps: 50 } }).fit.schedule!.totalSteps).toBe(50);
    expect(fitWith({ schedule: null }).fit.schedule).toBeNull();
  });

  it('rejects bad run options, naming the value', () => {
    expectError(() => fitWith({ epochs: undefined }), TypeError, /^epochs must be a positive integer, got undefined\.$/);
    expectError(() => fitWith({ epochs: 0 }), RangeError, /^epochs must be a positive integer, got 0\.$/);
    expectError(() => fitWith({ batchSize: -2 }), RangeError, /^batchSize must be a positive integer, got -2\.$/);
    expectError(() => fitWith({ seed: -1 }), RangeError, /^seed must be an integer in \[0, 2\^32\), got -1\.$/);
    expectError(() => fitWith({ seed: 2 ** 32 }), RangeError, /seed.*got 4294967296\./);
    expectError(() => fitWith({ shuffle: 1 as never }), TypeError, /^shuffle must be true or false, got 1\.$/);
    expectError(() => fitWith({ loss: 'ce' as never }), RangeError, /^loss must be 'mse', 'cross_entropy' or 'bce_with_logits', got "ce"\.$/);
    expectError(() => fitWith({ onEpoch: 'log' as never }), TypeError, /^onEpoch must be a function, got "log"\.$/);
    expectError(() => fitWith({ signal: {} as never }), TypeError, /^signal must be an AbortSignal, got an object\.$/);
    expectError(
      () => fitWith({ batch_size: 8 } as never),
      TypeError,
      /^Unknown option "batch_size" in the fit options; did you mean "batchSize"\?$/,
    );
  });

  it('rejects dropLast with no full batch', () => {
    expectError(
      () => fitWith({ batchSize: 16, dropLast: true }),
      RangeError,
      /^batchSize 16 is larger than the 10 training rows, so dropLast leaves no batches/,
    );
  });

  it('rejects bad SGD settings', () => {
    expectError(() => fitWith({ optimizer: { lr: -1 } }), RangeError, /^optimizer\.lr must be a finite number >= 0, got -1\.$/);
    expectError(() => fitWith({ optimizer: { momentum: -0.5 } }), RangeError, /optimizer\.momentum.*got -0\.5\./);
    expectError(() => fitWith({ optimizer: { dampening: 1.5 } }), RangeError, /^optimizer\.dampening must be a number in \[0, 1\], got 1\.5\.$/);
    expectError(() => fitWith({ optimizer: { weightDecay: NaN } }), RangeError, /optimizer\.weightDecay.*got NaN\./);
    expectError(() => fitWith({ optimizer: { nesterov: 'yes' as never } }), TypeError, /optimizer\.nesterov must be true or false/);
    expectError(() => fitWith({ optimizer: { beta: 1 } as never }), TypeError, /Unknown option "beta" in optimizer/);
  });

  it('applies PyTorch Nesterov rule', () => {
    const nesterov = /^Nesterov momentum requires a momentum and zero dampening: got optimizer\.momentum 0 and optimizer\.dampening 0\./;
    expectError(() => fitWith({ optimizer: { nesterov: true } }), RangeError, nesterov);
    expectError(
      () => fitWith({ optimizer: { nesterov: true, momentum: 0.9, dampening: 0.1 } }),
      RangeError,
      /got optimizer\.momentum 0\.9 and optimizer\.dampening 0\.1/,
    );
    expectError(
      () => fitWith({ optimizer: { nesterov: true }, schedule: { maxLr: 0.1, cycleMomentum: false } }),
      RangeError,
      nesterov,
    );
    // A cycling schedule supplies the momentum.
    expect(fitWith({ optimizer: { nesterov: true }, schedule: { maxLr: 0.1 } }).fit.nesterov).toBe(true);
  });

  it('rejects bad schedule options with their full name', () => {
    expectError(() => fitWith({ schedule: { maxLr: 0.1, pctStart: 2 } }), RangeError, /^schedule\.pctStart must be a number in \[0, 1\], got 2\.$/);
    expectError(
      () => fitWith({ schedule: { maxLr: [0.1, 0.2] } }),
      RangeError,
      /^Expected 1 value for schedule\.maxLr, one per parameter group, got 2\.$/,
    );
    expectError(
      () => fitWith({ epochs: 3, batchSize: 4, schedule: { maxLr: 0.1, totalSteps: 5 } }),
      RangeError,
      /^schedule\.totalSteps is 5, but the run has 9 steps \(3 epochs of 3 batches\)/,
    );
    expectError(() => fitWith({ schedule: { maxLr: 0.1, epochs: 3 } as never }), TypeError, /Unknown option "epochs" in schedule/);
    expectError(() => fitWith({ schedule: 0.1 as never }), TypeError, /^schedule must be an object, got 0\.1\.$/);
  });

  it('rejects features of the wrong type or shape', () => {
    expectError(
      () => fitWith({}, { x: Float64Array.from(x) }),
      TypeError,
      /^x must be a Float32Array of rows \* 4 values, got a Float64Array of length 40; convert it with Float32Array\.from\(\)\.$/,
    );
    expectError(() => fitWith({}, { x: new Float32Array(41) }), RangeError, /^x has 41 values, which is not a multiple of the model's 4 inputs/);
    expectError(() => fitWith({}, { x: new Float32Array(0), y: new Int32Array(0) }), RangeError, /^x has no rows; fit needs at least one sample\.$/);
  });

  it('names the row and column of a non-finite feature', () => {
    const bad = x.slice();
    bad[9] = NaN;
    expectError(() => fitWith({}, { x: bad }), RangeError, /^x contains NaN at row 2, column 1; remove or impute non-finite values first\.$/);
    bad[9] = -Infinity;
    expectError(() => fitWith({}, { x: bad }), RangeError, /x contains -Infinity at row 2, column 1/);
  });

  it('rejects targets of the wrong type or length', () => {
    expectError(
      () => fitWith({}, { y: Float64Array.from(values) }),
      TypeError,
      /^y must be a Float32Array of targets or an integer typed array of class labels \(Int32Array, .*\), got a Float64Array of length 30\.$/,
    );
    expectError(() => fitWith({}, { y: labels.subarray(0, 9) }), RangeError, /^y has 9 labels, but there are 10 rows; give one label per row\.$/);
    expectError(
      () => fitWith({}, { y: values.subarray(0, 20) }),
      RangeError,
      /^y has 20 values, but there are 10 rows and the model has 3 outputs, so y needs 30 values\.$/,
    );
    expectError(
      () => fitWith({ loss: 'cross_entropy' }, { y: values }),
      TypeError,
      /^loss 'cross_entropy' needs integer class labels \(.*\), but y is a Float32Array of length 30\.$/,
    );
    expectError(() => fitWith({ loss: 'mse' }, { y: labels }), TypeError, /^loss 'mse' needs a Float32Array of rows \* 3 targets, but y is an Int32Array of length 10\.$/);
  });

  it('names the row and value of a bad label', () => {
    const wrong = labels.slice();
    wrong[5] = 3;
    expectError(
      () => fitWith({}, { y: wrong }),
      RangeError,
      /^y has label 3 at row 5, but the model has 3 outputs, so labels must be in \[0, 3\)\.$/,
    );
    wrong[5] = -1;
    expectError(() => fitWith({}, { y: wrong }), RangeError, /label -1 at row 5/);
    expectError(() => fitWith({}, { y: Uint32Array.from({ length: 10 }, () => 2 ** 32 - 1) }), RangeError, /label 4294967295 at row 0/);
  });

  it('checks float targets for the loss', () => {
    const bad = values.slice();
    bad[7] = Infinity;
    expectError(() => fitWith({}, { y: bad }), RangeError, /^y contains Infinity at row 2, column 1; remove or impute/);
    const outOfRange = values.slice();
    outOfRange[4] = 1.5;
    expectError(
      () => fitWith({ loss: 'bce_with_logits' }, { y: outOfRange }),
      RangeError,
      /^y contains 1\.5 at row 1, column 1, but loss 'bce_with_logits' needs targets in \[0, 1\]\.$/,
    );
    expect(fitWith({ loss: 'mse' }, { y: outOfRange }).fit.loss).toBe('mse');
  });

  it('rejects cross_entropy on a single output', () => {
    expectError(
      () => resolveFit({ epochs: 1 }, [4, 1], x, labels),
      RangeError,
      /^loss 'cross_entropy' needs at least 2 outputs, but the model has 1; use 'bce_with_logits' for a single output\.$/,
    );
  });

  it('checks validation data like training data', () => {
    const resolved = fitWith({ validation: { x: x.subarray(0, 8), y: labels.subarray(0, 2) } }).fit.validation;
    expect(resolved!.rows).toBe(2);
    expect(resolved!.y).toBeInstanceOf(Int32Array);
    expectError(
      () => fitWith({ validation: { x: x.subarray(0, 6), y: labels } }),
      RangeError,
      /^validation\.x has 6 values, which is not a multiple/,
    );
    expectError(
      () => fitWith({ validation: { x, y: Int32Array.from(labels, () => 7) } }),
      RangeError,
      /^validation\.y has label 7 at row 0/,
    );
    expectError(
      () => fitWith({ validation: { x, y: values } }),
      TypeError,
      /needs integer class labels .* but validation\.y is a Float32Array/,
    );
    expectError(
      () => fitWith({ validation: { x: new Float32Array(0), y: new Int32Array(0) } }),
      RangeError,
      /^validation\.x has no rows/,
    );
  });
});

// ---------------------------------------------------------------------------

describe('resolveInputs and resolveEvaluate', () => {
  it('allows zero rows for predict only', () => {
    expect(resolveInputs(layers, new Float32Array(0), 'x')).toBe(0);
    expectError(() => resolveEvaluate(layers, new Float32Array(0), new Int32Array(0)), RangeError, /^x has no rows; evaluate needs/);
  });

  it('infers the evaluation loss from the targets', () => {
    expect(resolveEvaluate(layers, x, labels).loss).toBe('cross_entropy');
    expect(resolveEvaluate(layers, x, values).loss).toBe('mse');
    expect(resolveEvaluate(layers, x, values, 'bce_with_logits').loss).toBe('bce_with_logits');
    expectError(() => resolveEvaluate(layers, x, labels, 'hinge' as never), RangeError, /loss must be .* got "hinge"/);
  });
});

describe('resolveMlpOptions', () => {
  const mlp = (options: Partial<MlpOptions>) => resolveMlpOptions({ layers: [4, 3], ...options } as MlpOptions);

  it('fills in defaults', () => {
    expect(mlp({})).toEqual({ layers: [4, 3], activation: 'relu', seed: 0, threads: undefined });
  });

  it('rejects bad layer lists, naming the value', () => {
    expectError(() => mlp({ layers: 784 as never }), TypeError, /^layers must be an array of layer widths such as \[784, 128, 10\], got 784\.$/);
    expectError(() => mlp({ layers: [784] }), RangeError, /^layers must list at least 2 widths, the inputs and the outputs, got \[784\]\.$/);
    expectError(() => mlp({ layers: [4, 0, 3] }), RangeError, /^layers\[1\] must be a positive integer, got 0\.$/);
    expectError(() => mlp({ layers: [4, 2.5, 3] }), RangeError, /layers\[1\].*got 2\.5\./);
    expectError(() => mlp({ layers: [4, '8' as never] }), TypeError, /layers\[1\].*got "8"\./);
  });

  it('rejects bad activation, seed and threads', () => {
    expectError(
      () => mlp({ activation: 'swish' as never }),
      RangeError,
      /^activation must be 'relu', 'leaky_relu', 'tanh', 'sigmoid', 'gelu' or 'identity', got "swish"\.$/,
    );
    expectError(() => mlp({ seed: -1 }), RangeError, /^seed must be an integer in \[0, 2\^32\), got -1\.$/);
    expectError(() => mlp({ seed: 0.5 }), RangeError, /seed.*got 0\.5\./);
    expectError(() => mlp({ threads: 0 }), RangeError, /^threads must be a positive integer, got 0\.$/);
    expectError(() => mlp({ hidden: [8] } as never), TypeError, /Unknown option "hidden" in the Mlp options/);
  });
});

describe('resolveWeights', () => {
  const weights = (): LayerWeights[] => [
    { weight: new Float32Array(32), bias: new Float32Array(8), shape: [8, 4] },
    { weight: new Float32Array(24), bias: new Float32Array(3), shape: [3, 8] },
  ];

  it('accepts weights of the model shape', () => {
    expect(() => resolveWeights(layers, weights())).not.toThrow();
  });

  it('names the layer of a bad entry', () => {
    expectError(() => resolveWeights(layers, weights().slice(0, 1)), RangeError, /^weights has 1 entries, but the model \[4, 8, 3\] has 2 layers\.$/);
    const wrongShape = weights();
    wrongShape[1].shape = [8, 3];
    expectError(
      () => resolveWeights(layers, wrongShape),
      RangeError,
      /^weights\[1\]\.shape is \[8, 3\], but layer 1 maps 8 inputs to 3 outputs, so its shape is \[3, 8\]\.$/,
    );
    const shortWeight = weights();
    shortWeight[1].weight = new Float32Array(5);
    expectError(
      () => resolveWeights(layers, shortWeight),
      RangeError,
      /^weights\[1\]\.weight has 5 values, but layer 1 maps 8 inputs to 3 outputs, so it needs 24\.$/,
    );
    const wrongType = weights();
    wrongType[0].bias = [0, 0, 0, 0, 0, 0, 0, 0] as never;
    expectError(() => resolveWeights(layers, wrongType), TypeError, /^weights\[0\]\.bias must be a Float32Array, got \[0, 0, 0, 0, 0, 0, 0, 0\]\.$/);
  });

  it('names the position of a non-finite weight', () => {
    const bad = weights();
    bad[1].weight[8 + 5] = NaN;
    expectError(() => resolveWeights(layers, bad), RangeError, /^weights\[1\]\.weight contains NaN at row 1, column 5 of layer 1; weights must be finite\.$/);
    const badBias = weights();
    badBias[0].bias[2] = Infinity;
    expectError(() => resolveWeights(layers, badBias), RangeError, /weights\[0\]\.bias contains Infinity at index 2 of layer 0/);
  });
});

describe('describe', () => {
  it('shows values and types for messages', () => {
    expect(describeValue(1.5)).toBe('1.5');
    expect(describeValue('a')).toBe('"a"');
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1, 2])).toBe('[1, 2]');
    expect(describeValue(new Array(20).fill(0))).toBe('an array of length 20');
    expect(describeValue(new Uint8Array(3))).toBe('a Uint8Array of length 3');
    expect(describeValue(new Int32Array(2))).toBe('an Int32Array of length 2');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue({})).toBe('an object');
  });
});
