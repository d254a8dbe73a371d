'use strict';

const { BenchRng } = require('./rng');

/**
 * Training cases. Each timed call trains on `batches[engine]` batches of
 * `batchSize` rows (`null` is one whole epoch over `rows`), so the slow
 * engines get a fixed number of steps that keeps their time bounded.
 * `quickBatches` caps every engine under `--quick`.
 */
const TRAINING_CASES = [
  {
    name: 'mnist-784-256-128-10',
    layers: [784, 256, 128, 10],
    batchSize: 128,
    loss: 'cross_entropy',
    maxLr: 0.1,
    data: 'mnist',
    measures:
      'one epoch over the MNIST training digits: ReLU, cross-entropy, ' +
      'SGD momentum 0.9 with 1cycle (maxLr 0.1)',
    batches: { native: null, js: null, 'tfjs-cpu': 8, 'tfjs-wasm': null, torch: null },
    quickBatches: 4,
  },
  {
    name: 'regression-10-64-1',
    layers: [10, 64, 1],
    batchSize: 32,
    loss: 'mse',
    maxLr: 0.01,
    data: 'regression',
    rows: 1000,
    measures:
      'one epoch over 1,000 samples of y = sum of 10 features + noise: ' +
      'ReLU, MSE, SGD momentum 0.9 with 1cycle (maxLr 0.01)',
    batches: { native: null, js: null, 'tfjs-cpu': null, 'tfjs-wasm': null, torch: null },
    quickBatches: 8,
  },
  {
    name: 'wide-784-1024-1024-10',
    layers: [784, 1024, 1024, 10],
    batchSize: 256,
    loss: 'cross_entropy',
    maxLr: 0.01,
    data: 'random',
    rows: 4096,
    reportGflops: true,
    measures:
      'a fixed number of steps on random inputs and labels: ReLU, ' +
      'cross-entropy, SGD momentum 0.9 with 1cycle (maxLr 0.01)',
    batches: { native: 16, js: 2, 'tfjs-cpu': 1, 'tfjs-wasm': 1, torch: 4 },
    quickBatches: 1,
  },
];

/** Cases that time single calls rather than training. */
const CALL_CASES = [
  {
    name: 'schedule-1e6-steps',
    totalSteps: 1e6,
    maxLr: 0.1,
    measures:
      'building a OneCycleLR of 1e6 steps and calling step() and ' + 'getLastLr() 1e6 times',
  },
  {
    name: 'napi-crossing',
    layers: [784, 128, 10],
    measures:
      'the fixed cost of one OneCycleLR.step() and of one single-row ' +
      'predict on a 784-128-10 model, per call',
  },
];

const CASE_NAMES = [...TRAINING_CASES, ...CALL_CASES].map((c) => c.name);

/** Number of weights and biases of a dense network. */
function parameterCount(layers) {
  let count = 0;
  for (let i = 1; i < layers.length; i++) {
    count += layers[i - 1] * layers[i] + layers[i];
  }
  return count;
}

/** Rows each timed call of `engine` trains on. */
function rowsPerCall(trainingCase, engine, dataRows, quick) {
  const cap = quick ? trainingCase.quickBatches : trainingCase.batches[engine];
  if (cap == null) return dataRows;
  return Math.min(dataRows, cap * trainingCase.batchSize);
}

function randomClassification(rows, layers, seed) {
  const inputs = layers[0];
  const classes = layers[layers.length - 1];
  const rng = new BenchRng(seed);
  const x = new Float32Array(rows * inputs);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) y[i] = rng.int(classes);
  return { x, y, rows };
}

function regressionData(rows, features, seed) {
  const rng = new BenchRng(seed);
  const x = new Float32Array(rows * features);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let f = 0; f < features; f++) {
      const value = rng.normal();
      x[r * features + f] = value;
      sum += value;
    }
    y[r] = sum + 0.1 * rng.normal();
  }
  return { x, y, rows };
}

/**
 * Builds a case's training data: `{ x, y, rows, source, substituted? }`,
 * where `source` names where the data came from. MNIST falls back to seeded
 * random data of the same shape, with `substituted: true`, when the `mnist`
 * package is not installed.
 */
function loadCaseData(trainingCase, onecycle) {
  const { layers } = trainingCase;
  if (trainingCase.data === 'mnist') {
    try {
      const split = onecycle.loadMnist({ seed: 0 });
      return {
        x: split.xTrain,
        y: split.yTrain,
        rows: split.trainRows,
        source: `MNIST training digits of the mnist package (${split.trainRows} rows)`,
      };
    } catch (error) {
      if (!(error instanceof onecycle.MnistMissingError)) throw error;
      const data = randomClassification(8000, layers, 1);
      return {
        ...data,
        source: 'seeded random data in place of MNIST: the mnist package is not installed',
        substituted: true,
      };
    }
  }
  if (trainingCase.data === 'regression') {
    const data = regressionData(trainingCase.rows, layers[0], 2);
    return { ...data, source: `seeded normal features, ${data.rows} rows` };
  }
  const data = randomClassification(trainingCase.rows, layers, 3);
  return { ...data, source: `seeded uniform inputs and labels, ${data.rows} rows` };
}

module.exports = {
  TRAINING_CASES,
  CALL_CASES,
  CASE_NAMES,
  parameterCount,
  rowsPerCall,
  loadCaseData,
  randomClassification,
};
