'use strict';

const { parameterCount, rowsPerCall } = require('./cases');
const { maxRelativeError, median } = require('./stats');
const { timeFunction } = require('./timing');

/** Relative tolerance between engines, norm-wise over the checked rows. */
const TOLERANCE = 1e-4;
/** Rows whose predictions are compared before timing. */
const CHECK_ROWS = 4;
/** Batches trained on by both engines before their predictions are
 * compared again. */
const CHECK_BATCHES = 4;
/** Seed of every model's weight initialisation. */
const MODEL_SEED = 42;
const ONECYCLE_ENGINES = ['native', 'js'];

/** Error raised when two engines disagree; the case is aborted. */
class MismatchError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MismatchError';
  }
}

function fitOptions(trainingCase) {
  return {
    epochs: 1,
    batchSize: trainingCase.batchSize,
    loss: trainingCase.loss,
    optimizer: { momentum: 0.9, weightDecay: 0 },
    schedule: { maxLr: trainingCase.maxLr },
    shuffle: true,
    seed: 0,
  };
}

/** First `rows` rows of a case's data, as views. */
function sliceRows(data, layers, rows) {
  const inputs = layers[0];
  const targetsPerRow = data.y instanceof Float32Array ? layers[layers.length - 1] : 1;
  return {
    x: data.x.subarray(0, rows * inputs),
    y: data.y.subarray(0, rows * targetsPerRow),
    rows,
  };
}

function assertClose(actual, expected, description) {
  const error = maxRelativeError(actual, expected);
  if (!(error <= TOLERANCE)) {
    throw new MismatchError(
      `${description}: native and js predictions differ by ${error.toExponential(3)} ` +
        `relative (tolerance ${TOLERANCE}). native: ${Array.from(expected.slice(0, 4))}, ` +
        `js: ${Array.from(actual.slice(0, 4))}`,
    );
  }
  return error;
}

/**
 * Builds one model per onecycle engine from the same seed and checks that
 * they predict the same outputs, first as initialised and then after both
 * train on the same batches. Throws a MismatchError when they differ.
 * `reference` keeps the initial weights and native predictions on the
 * checked rows, for the anchors' own checks.
 */
async function buildCheckedModels(trainingCase, data, context) {
  const { Mlp } = context.onecycle;
  const models = {};
  for (const backend of ONECYCLE_ENGINES) {
    models[backend] = new Mlp({
      layers: trainingCase.layers,
      activation: 'relu',
      seed: MODEL_SEED,
      threads: context.threads,
      backend,
    });
  }
  const probe = sliceRows(data, trainingCase.layers, CHECK_ROWS).x;
  const reference = {
    probe,
    weights: models.native.getWeights(),
    predictions: models.native.predict(probe),
  };
  const initialError = assertClose(
    models.js.predict(probe),
    reference.predictions,
    `${trainingCase.name}, initial weights from seed ${MODEL_SEED}`,
  );

  const rows = Math.min(data.rows, CHECK_BATCHES * trainingCase.batchSize);
  const subset = sliceRows(data, trainingCase.layers, rows);
  for (const backend of ONECYCLE_ENGINES) {
    await models[backend].fit(subset.x, subset.y, fitOptions(trainingCase));
  }
  const trainedError = assertClose(
    models.js.predict(probe),
    models.native.predict(probe),
    `${trainingCase.name}, after ${rows} rows of training`,
  );
  const check = {
    ok: true,
    tolerance: TOLERANCE,
    rows: CHECK_ROWS,
    trainedOnRows: rows,
    initialMaxRelativeError: initialError,
    trainedMaxRelativeError: trainedError,
  };
  return { models, check, reference };
}

/** Times whole `fit` calls of one engine on the rows the case assigns it. */
async function timeTraining(trainingCase, data, model, engine, context) {
  const rows = rowsPerCall(trainingCase, engine, data.rows, context.quick);
  const subset = sliceRows(data, trainingCase.layers, rows);
  const options = fitOptions(trainingCase);
  let history = await model.fit(subset.x, subset.y, options); // warm-up
  const epochSeconds = [];
  const stats = await timeFunction(
    async () => {
      history = await model.fit(subset.x, subset.y, options);
      epochSeconds.push(history.seconds);
    },
    { ...context.timing, async: true },
  );
  // History.seconds is the engine's own measure of the run, so comparing
  // it with the wall time of the call shows the fixed cost of a fit call.
  return trainingResult(trainingCase, rows, stats, {
    finalLoss: history.epochs[history.epochs.length - 1].loss,
    fitReportedSamplesPerSecond: rows / median(epochSeconds),
  });
}

/** Derives throughput figures from the seconds per timed call. */
function trainingResult(trainingCase, rows, stats, extra = {}) {
  const samplesPerSecond = rows / stats.median;
  const result = {
    rowsPerCall: rows,
    batchesPerCall: Math.ceil(rows / trainingCase.batchSize),
    stats,
    samplesPerSecond,
    msPerBatch: (1000 * trainingCase.batchSize) / samplesPerSecond,
    ...extra,
  };
  if (trainingCase.reportGflops) {
    result.gflops = (6 * parameterCount(trainingCase.layers) * samplesPerSecond) / 1e9;
  }
  return result;
}

/** Checks and times a training case on both onecycle engines. */
async function benchOnecycleTraining(trainingCase, data, context) {
  const { models, check, reference } = await buildCheckedModels(trainingCase, data, context);
  const engines = {};
  for (const engine of ONECYCLE_ENGINES) {
    context.log(`  ${engine} ...`);
    engines[engine] = await timeTraining(trainingCase, data, models[engine], engine, context);
    context.log(`  ${engine}: ${engines[engine].samplesPerSecond.toFixed(0)} samples/s`);
  }
  return { check, engines, reference };
}

module.exports = {
  benchOnecycleTraining,
  trainingResult,
  sliceRows,
  fitOptions,
  MismatchError,
  TOLERANCE,
  CHECK_ROWS,
  MODEL_SEED,
  ONECYCLE_ENGINES,
};
