'use strict';

const { BenchRng } = require('./rng');
const { rowsPerCall } = require('./cases');
const { maxRelativeError } = require('./stats');
const { timeFunction } = require('./timing');
const { MismatchError, TOLERANCE, sliceRows, trainingResult } = require('./onecycle');

/** tfjs has no 1cycle schedule, so the anchor trains at a constant rate:
 * 1cycle's initial rate, maxLr / 25. The rate does not change the work. */
const CONSTANT_LR_DIVISOR = 25;

let tf = null;

/**
 * Loads TensorFlow.js and its WebAssembly backend. Resolves to
 * `{ available, reason?, version?, wasm?, optimizer? }`.
 */
async function loadTfjs() {
  try {
    tf = require('@tensorflow/tfjs');
    require('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return {
      available: false,
      reason: `@tensorflow/tfjs or @tensorflow/tfjs-backend-wasm is not installed (${error.code ?? error.message})`,
    };
  }
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    available: true,
    version: tf.version.tfjs,
    wasm: {
      simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    },
    optimizer: `tf.train.momentum(maxLr / ${CONSTANT_LR_DIVISOR}, 0.9), constant learning rate`,
  };
}

/** Variables of a dense network from onecycle's `[out][in]` weights. */
function buildVariables(weights) {
  return weights.map((layer) => {
    const [outputs, inputs] = layer.shape;
    const weight = tf.tidy(() => tf.tensor2d(layer.weight, [outputs, inputs]).transpose());
    const bias = tf.tensor1d(layer.bias);
    const variables = { weight: tf.variable(weight), bias: tf.variable(bias) };
    weight.dispose();
    bias.dispose();
    return variables;
  });
}

function forward(variables, x) {
  let activation = x;
  variables.forEach((layer, index) => {
    activation = tf.add(tf.matMul(activation, layer.weight), layer.bias);
    if (index < variables.length - 1) activation = tf.relu(activation);
  });
  return activation;
}

function lossFunction(loss) {
  return loss === 'cross_entropy'
    ? (targets, logits) => tf.losses.softmaxCrossEntropy(targets, logits)
    : (targets, outputs) => tf.losses.meanSquaredError(targets, outputs);
}

/** Targets as a float tensor: one-hot rows for class labels. */
function targetTensor(trainingCase, y, rows) {
  const outputs = trainingCase.layers[trainingCase.layers.length - 1];
  if (trainingCase.loss === 'cross_entropy') {
    return tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), outputs).toFloat());
  }
  return tf.tensor2d(y, [rows, outputs]);
}

function checkPredictions(variables, reference, inputs) {
  const rows = reference.predictions.length / reference.weights.at(-1).shape[0];
  const predictions = tf.tidy(() =>
    forward(variables, tf.tensor2d(reference.probe, [rows, inputs])).dataSync(),
  );
  const error = maxRelativeError(predictions, reference.predictions);
  if (!(error <= TOLERANCE)) {
    throw new MismatchError(
      `tfjs-${tf.getBackend()} predictions from onecycle's initial weights differ ` +
        `by ${error.toExponential(3)} relative (tolerance ${TOLERANCE}).`,
    );
  }
  return error;
}

/** Trains one pass over all rows with a manual batch loop and returns the
 * last batch loss. */
function trainEpoch(context) {
  const { variables, x, y, rows, batchSize, optimizer, computeLoss, rng } = context;
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const varList = variables.flatMap((layer) => [layer.weight, layer.bias]);
  let lastLoss = null;
  for (let start = 0; start < rows; start += batchSize) {
    const batch = order.subarray(start, Math.min(rows, start + batchSize));
    const cost = tf.tidy(() => {
      const indices = tf.tensor1d(batch, 'int32');
      const xBatch = tf.gather(x, indices);
      const yBatch = tf.gather(y, indices);
      return optimizer.minimize(
        () => computeLoss(yBatch, forward(variables, xBatch)),
        true,
        varList,
      );
    });
    if (lastLoss) lastLoss.dispose();
    lastLoss = cost;
  }
  const value = lastLoss.dataSync()[0];
  lastLoss.dispose();
  return value;
}

/**
 * Checks and times one tfjs backend (`cpu` or `wasm`) on a training case,
 * starting from onecycle's initial weights.
 */
async function benchTfjs(trainingCase, data, reference, backend, options) {
  await tf.setBackend(backend);
  await tf.ready();
  const engine = `tfjs-${backend}`;
  const inputs = trainingCase.layers[0];
  const variables = buildVariables(reference.weights);
  try {
    const check = checkPredictions(variables, reference, inputs);
    const rows = rowsPerCall(trainingCase, engine, data.rows, options.quick);
    const subset = sliceRows(data, trainingCase.layers, rows);
    const context = {
      variables,
      x: tf.tensor2d(subset.x, [rows, inputs]),
      y: targetTensor(trainingCase, subset.y, rows),
      rows,
      batchSize: trainingCase.batchSize,
      optimizer: tf.train.momentum(trainingCase.maxLr / CONSTANT_LR_DIVISOR, 0.9),
      computeLoss: lossFunction(trainingCase.loss),
      rng: new BenchRng(5),
    };
    let finalLoss = trainEpoch(context); // warm-up
    const stats = await timeFunction(() => {
      finalLoss = trainEpoch(context);
    }, options.timing);
    context.x.dispose();
    context.y.dispose();
    context.optimizer.dispose();
    return trainingResult(trainingCase, rows, stats, {
      finalLoss,
      check: { ok: true, tolerance: TOLERANCE, maxRelativeError: check },
    });
  } finally {
    variables.forEach((layer) => {
      layer.weight.dispose();
      layer.bias.dispose();
    });
  }
}

module.exports = { loadTfjs, benchTfjs };
