import { abortError } from '../abort';
import type { ResolvedFit } from '../engine';
import type { EpochRecord, History, Loss, StepRecords } from '../types';
import { countCorrect, lossSum, lossTerms } from './loss';
import { ForwardWorkspace, Network, TrainWorkspace, type SgdSink } from './network';
import { Rng } from './rng';
import { JsScheduleEngine } from './schedule';

/** Maximum training time between yields to the event loop, in
 * milliseconds, so timers and I/O callbacks keep running during `fit`. A
 * yield waits for the end of the batch in progress. */
const YIELD_INTERVAL_MS = 10;
/** Rows per forward pass when evaluating a data set. */
const EVALUATION_ROWS = 256;

/** Learning rate and momentum of each step: the schedule's values at
 * index t for batch t, or the optimizer's constants where no schedule sets
 * them. */
class StepPlan {
  readonly #options: ResolvedFit;
  readonly #schedule: JsScheduleEngine | null;

  constructor(options: ResolvedFit) {
    this.#options = options;
    this.#schedule = options.schedule === null ? null : new JsScheduleEngine(options.schedule);
  }

  lr(t: number): number {
    return this.#schedule === null ? this.#options.lr : this.#schedule.lrAt(t, 0);
  }

  momentum(t: number): number {
    return this.#schedule?.momentumAt(t, 0) ?? this.#options.momentum;
  }
}

/** Returns the number of batches per epoch: `floor(rows / batch)` with
 * `dropLast`, else `ceil(rows / batch)`. */
export function stepsPerEpoch(rows: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(rows / batchSize) : Math.ceil(rows / batchSize);
}

/** Computes the mean loss and, for the classification losses, the
 * accuracy of `network` on a data set, in chunks of rows. */
export function evaluateNetwork(
  network: Network,
  x: Float32Array,
  rows: number,
  y: Float32Array | Int32Array,
  loss: Loss,
  workspace: ForwardWorkspace = new ForwardWorkspace(network.sizes, Math.min(rows, EVALUATION_ROWS)),
): { loss: number; accuracy: number | null } {
  const inputs = network.sizes[0];
  const outputs = network.outputs;
  let sum = 0;
  let correct = 0;
  for (let start = 0; start < rows; start += workspace.capacity) {
    const count = Math.min(workspace.capacity, rows - start);
    const chunk = x.subarray(start * inputs, (start + count) * inputs);
    const output = network.forward(chunk, count, workspace);
    sum += lossSum(loss, output, count, outputs, y, start, null);
    correct += countCorrect(loss, output, count, outputs, y, start);
  }
  const mean = sum / lossTerms(loss, rows, outputs);
  if (loss === 'mse') return { loss: mean, accuracy: null };

  // Accuracy counts rows for cross_entropy and output values for
  // bce_with_logits, the same terms as the loss.
  return { loss: mean, accuracy: correct / lossTerms(loss, rows, outputs) };
}

/** Copies the rows `order[first .. first + count]` of `x` and their targets
 * into the batch buffers. */
function gatherBatch(
  x: Float32Array,
  y: Float32Array | Int32Array,
  order: Uint32Array,
  first: number,
  count: number,
  inputs: number,
  targetWidth: number,
  batchX: Float32Array,
  batchY: Float32Array | Int32Array,
): void {
  for (let r = 0; r < count; r++) {
    const row = order[first + r];
    batchX.set(x.subarray(row * inputs, (row + 1) * inputs), r * inputs);
    if (targetWidth === 1) {
      batchY[r] = y[row];
    } else {
      batchY.set(y.subarray(row * targetWidth, (row + 1) * targetWidth), r * targetWidth);
    }
  }
}

/** Returns the error thrown when a batch loss is NaN or infinite. */
function divergenceError(
  loss: number,
  epoch: number,
  step: number,
  steps: number,
  lr: number,
  scheduled: boolean,
): Error {
  const option = scheduled ? 'schedule.maxLr' : 'optimizer.lr';
  return new Error(
    `Training diverged: the loss is ${loss} at epoch ${epoch}, step ${step} of ${steps}, ` +
      `with learning rate ${lr}. Lower ${option} and train again; the model keeps its ` +
      'weights from before fit.',
  );
}

/** Creates the SGD destination of the gradients, with zeroed momentum
 * buffers that the first step with momentum seeds. */
function createSgdSink(network: Network, options: ResolvedFit): SgdSink {
  return {
    kind: 'sgd',
    step: {
      lr: 0,
      momentum: 0,
      dampening: options.dampening,
      nesterov: options.nesterov,
      weightDecay: options.weightDecay,
      seedBuffer: true,
    },
    weightBuffers: network.weights.map((weight) => new Float32Array(weight.length)),
    biasBuffers: network.biases.map((bias) => new Float32Array(bias.length)),
  };
}

/** Evaluates the validation data and stores the loss and, for the
 * classification losses, the accuracy in `record`. */
function addValidation(
  record: EpochRecord,
  network: Network,
  validation: NonNullable<ResolvedFit['validation']>,
  loss: Loss,
  workspace: ForwardWorkspace,
): void {
  const { x, rows, y } = validation;
  const result = evaluateNetwork(network, x, rows, y, loss, workspace);
  record.valLoss = result.loss;
  if (result.accuracy !== null) record.valAccuracy = result.accuracy;
}

/**
 * Trains `network` in place with minibatch SGD as `docs/semantics.md`
 * describes: the sample order is shuffled each epoch with a generator
 * seeded by `options.seed`, batch t (counted across epochs) uses the
 * learning rate and momentum at schedule index t, and validation runs
 * after each epoch.
 *
 * Throws a `divergenceError` when a batch loss is not finite, and the
 * abort error of `signal` when it fires. The network is then partly
 * trained, so the caller trains a copy. The loop yields to the event loop
 * after each batch that ends {@link YIELD_INTERVAL_MS} ms or more after
 * the last yield.
 */
export async function train(
  network: Network,
  x: Float32Array,
  rows: number,
  y: Float32Array | Int32Array,
  options: ResolvedFit,
  onEpoch?: (record: EpochRecord) => void,
  signal?: AbortSignal,
): Promise<History> {
  if (signal?.aborted) throw abortError(signal);

  const { batchSize, epochs, loss } = options;
  const inputs = network.sizes[0];
  const outputs = network.outputs;
  const perEpoch = stepsPerEpoch(rows, batchSize, options.dropLast);
  const totalSteps = epochs * perEpoch;
  const plan = new StepPlan(options);

  // Buffers reused by every batch.
  const capacity = Math.min(batchSize, rows);
  const workspace = new TrainWorkspace(network.sizes, capacity);
  const targetWidth = loss === 'cross_entropy' ? 1 : outputs;
  const batchX = new Float32Array(capacity * inputs);
  const batchY =
    loss === 'cross_entropy' ? new Int32Array(capacity) : new Float32Array(capacity * outputs);
  const validationWorkspace = options.validation
    ? new ForwardWorkspace(network.sizes, Math.min(options.validation.rows, EVALUATION_ROWS))
    : null;
  const sink = createSgdSink(network, options);
  const steps: StepRecords | undefined = options.recordSteps
    ? {
        lr: new Float64Array(totalSteps),
        momentum: new Float64Array(totalSteps),
        loss: new Float64Array(totalSteps),
      }
    : undefined;

  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const shuffleRng = new Rng(options.seed);

  const records: EpochRecord[] = [];
  const runStart = performance.now();
  let lastYield = runStart;
  let trainedSamples = 0;
  let t = 0;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    if (options.shuffle) shuffleRng.shuffle(order);
    let lossWeighted = 0;
    let epochSamples = 0;

    for (let k = 0; k < perEpoch; k++, t++) {
      const first = k * batchSize;
      const count = Math.min(batchSize, rows - first);
      gatherBatch(x, y, order, first, count, inputs, targetWidth, batchX, batchY);

      const lr = plan.lr(t);
      const momentum = plan.momentum(t);
      sink.step.lr = lr;
      sink.step.momentum = momentum;
      const sum = network.trainBatch(batchX, count, batchY, loss, workspace, sink);
      const batchLoss = Math.fround(sum / lossTerms(loss, count, outputs));
      if (!Number.isFinite(batchLoss)) {
        throw divergenceError(batchLoss, epoch, k + 1, perEpoch, lr, options.schedule !== null);
      }
      if (momentum !== 0) sink.step.seedBuffer = false;

      if (steps) {
        steps.lr[t] = lr;
        steps.momentum[t] = momentum;
        steps.loss[t] = batchLoss;
      }
      lossWeighted += batchLoss * count;
      epochSamples += count;

      if (signal?.aborted) throw abortError(signal);
      if (performance.now() - lastYield >= YIELD_INTERVAL_MS) {
        await new Promise(setImmediate);
        lastYield = performance.now();
        if (signal?.aborted) throw abortError(signal);
      }
    }

    const record: EpochRecord = {
      epoch,
      loss: lossWeighted / epochSamples,
      lr: plan.lr(t - 1),
      momentum: plan.momentum(t - 1),
      seconds: 0,
      samplesPerSecond: 0,
    };
    if (options.validation && validationWorkspace) {
      addValidation(record, network, options.validation, loss, validationWorkspace);
    }
    // The epoch's time covers its batches, yields and validation.
    record.seconds = (performance.now() - epochStart) / 1000;
    record.samplesPerSecond = epochSamples / record.seconds;
    trainedSamples += epochSamples;
    records.push(record);
    onEpoch?.({ ...record });
  }

  const seconds = (performance.now() - runStart) / 1000;
  const history: History = {
    epochs: records,
    totalSteps,
    seconds,
    samplesPerSecond: trainedSamples / seconds,
  };
  if (steps) history.steps = steps;
  return history;
}
