import { describe, expect, it } from 'vitest';
import { JsMlp } from '../ts/js/mlp';
import { Network, TrainWorkspace, type CopySink } from '../ts/js/network';
import { lossSum, lossTerms } from '../ts/js/loss';
import { Rng } from '../ts/js/rng';
import { JsScheduleEngine } from '../ts/js/schedule';
import type { Activation, FitOptions, Loss, Targets } from '../ts/types';
import { resolveFit, resolveOneCycle } from '../ts/validate';

/** Runs `fit` on the TypeScript engine the way the public class does. */
function fit(model: JsMlp, x: Float32Array, y: Targets, options: FitOptions) {
  const { rows, targets, fit: resolved } = resolveFit(options, model.layers, x, y);
  return model.fit(x, rows, targets, resolved, options.onEpoch, options.signal);
}

/** A seeded data set of `rows` rows: features in [-1, 1), labels that are
 * the argmax of `classes` fixed linear scores (a linearly separable
 * problem), and float targets that are a smooth function of the
 * features. */
function dataset(rows: number, inputs: number, classes: number, seed = 1) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: rows * inputs }, () => 2 * rng.nextF64() - 1);
  const labels = new Int32Array(rows);
  const values = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let best = -Infinity;
    for (let j = 0; j < classes; j++) {
      let score = 0;
      for (let i = 0; i < inputs; i++) score += x[r * inputs + i] * Math.cos(i * (j + 1));
      values[r * classes + j] = Math.sin(score);
      if (score > best) {
        best = score;
        labels[r] = j;
      }
    }
  }
  return { x, labels, values };
}

// ---------------------------------------------------------------------------

const ACTIVATIONS: Activation[] = ['relu', 'leaky_relu', 'tanh', 'sigmoid', 'gelu', 'identity'];
const LOSSES: Loss[] = ['mse', 'cross_entropy', 'bce_with_logits'];

/** Central-difference step. Its truncation error, of order h^2 times the
 * third derivative, is below 1e-6 here, and a step this small rarely
 * moves a ReLU pre-activation across its kink. */
const FD_STEP = 1e-3;
/** Allowed |finite difference - backprop|. The float32 forward pass rounds
 * each loss to about 6e-8 relative, so the difference quotient can be off
 * by up to 6e-8 * |loss| / h, about 6e-5 for losses near 1. The two
 * evaluations round alike, and on these cases the error stays below 6e-6,
 * so 3e-5 absolute plus 1e-3 relative still catches a derivative that is
 * off by a few percent. */
const FD_ABSOLUTE = 3e-5;
const FD_RELATIVE = 1e-3;

function meanLoss(network: Network, x: Float32Array, rows: number, y: Float32Array | Int32Array, loss: Loss) {
  const workspace = new TrainWorkspace(network.sizes, rows);
  const output = network.forward(x, rows, workspace);
  return lossSum(loss, output, rows, network.outputs, y, 0, null) / lossTerms(loss, rows, network.outputs);
}

function backpropGradients(
  network: Network,
  x: Float32Array,
  rows: number,
  y: Float32Array | Int32Array,
  loss: Loss,
) {
  const sink: CopySink = {
    kind: 'copy',
    weights: network.weights.map((weight) => new Float32Array(weight.length)),
    biases: network.biases.map((bias) => new Float32Array(bias.length)),
  };
  network.trainBatch(x, rows, y, loss, new TrainWorkspace(network.sizes, rows), sink);
  return sink;
}

describe('Network gradients', () => {
  const cases = ACTIVATIONS.flatMap((activation) => LOSSES.map((loss) => [activation, loss] as const));

  it.each(cases)('%s with %s match finite differences', (activation, loss) => {
    const sizes = [5, 6, 4, 3];
    const rows = 8;
    const network = Network.initialize(sizes, activation, 17);
    const data = dataset(rows, sizes[0], 3, 23);
    const y =
      loss === 'cross_entropy'
        ? data.labels
        : loss === 'mse'
          ? data.values
          : data.values.map((value) => (value + 1) / 2);
    const expected = backpropGradients(network, data.x, rows, y, loss);

    const picker = new Rng(5);
    const tensors = [
      ...network.weights.map((param, l) => ({ param, grad: expected.weights[l], name: `weight ${l}` })),
      ...network.biases.map((param, l) => ({ param, grad: expected.biases[l], name: `bias ${l}` })),
    ];
    for (const { param, grad, name } of tensors) {
      for (let trial = 0; trial < 8; trial++) {
        const i = picker.below(param.length);
        const original = param[i];
        param[i] = original + FD_STEP;
        const plus = param[i];
        const lossPlus = meanLoss(network, data.x, rows, y, loss);
        param[i] = original - FD_STEP;
        const minus = param[i];
        const lossMinus = meanLoss(network, data.x, rows, y, loss);
        param[i] = original;

        const numeric = (lossPlus - lossMinus) / (plus - minus);
        const error = Math.abs(numeric - grad[i]);
        if (!(error <= FD_ABSOLUTE + FD_RELATIVE * Math.abs(numeric))) {
          expect.fail(`${name}[${i}]: backprop ${grad[i]}, finite difference ${numeric}`);
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------

describe('JsMlp initialisation', () => {
  it('draws each layer weight-first from the seeded generator', () => {
    const layers = [3, 4, 2];
    const weights = new JsMlp(layers, 'relu', 42).getWeights();
    const rng = new Rng(42);
    for (let l = 0; l < 2; l++) {
      const bound = 1 / Math.sqrt(layers[l]);
      const draw = () => Math.fround((2 * rng.nextF64() - 1) * bound);
      const weight = Float32Array.from({ length: layers[l] * layers[l + 1] }, draw);
      const bias = Float32Array.from({ length: layers[l + 1] }, draw);
      expect(weights[l].shape).toEqual([layers[l + 1], layers[l]]);
      expect(weights[l].weight).toEqual(weight);
      expect(weights[l].bias).toEqual(bias);
    }
  });

  it('stays within PyTorch bounds of 1/sqrt(fan_in)', () => {
    const weights = new JsMlp([100, 50, 10], 'relu', 1).getWeights();
    weights.forEach((layer) => {
      const bound = 1 / Math.sqrt(layer.shape[1]);
      expect(Math.max(...layer.weight.map(Math.abs))).toBeLessThanOrEqual(Math.fround(bound));
      expect(Math.max(...layer.bias.map(Math.abs))).toBeLessThanOrEqual(Math.fround(bound));
    });
  });
});

describe('JsMlp.fit', () => {
  const { x, labels, values } = dataset(120, 6, 3);
  const layers = [6, 16, 3];

  it('gives bit-identical weights for the same seeds', async () => {
    const options: FitOptions = {
      epochs: 3,
      batchSize: 16,
      seed: 9,
      optimizer: { momentum: 0.9, weightDecay: 1e-4 },
      schedule: { maxLr: 0.2 },
    };
    const a = new JsMlp(layers, 'gelu', 5);
    const b = new JsMlp(layers, 'gelu', 5);
    const historyA = await fit(a, x, labels, options);
    const historyB = await fit(b, x, labels, options);
    expect(historyB.epochs.map((e) => e.loss)).toEqual(historyA.epochs.map((e) => e.loss));
    a.getWeights().forEach((layer, l) => {
      expect(b.getWeights()[l].weight).toEqual(layer.weight);
      expect(b.getWeights()[l].bias).toEqual(layer.bias);
    });

    const c = new JsMlp(layers, 'gelu', 5);
    await fit(c, x, labels, { ...options, seed: 10 });
    expect(c.getWeights()[0].weight).not.toEqual(a.getWeights()[0].weight);
  });

  it('shuffles each epoch from the previous order with Fisher-Yates', async () => {
    const options: FitOptions = { epochs: 2, batchSize: 7, seed: 3, optimizer: { lr: 0.05 } };
    const shuffled = new JsMlp(layers, 'tanh', 2);
    await fit(shuffled, x, labels, options);

    // Replays the two epochs on data reordered by hand, in separate fits:
    // without momentum or schedule no state crosses an epoch but the weights.
    const manual = new JsMlp(layers, 'tanh', 2);
    const order = Uint32Array.from({ length: 120 }, (_, i) => i);
    const rng = new Rng(3);
    for (let epoch = 0; epoch < 2; epoch++) {
      rng.shuffle(order);
      const xs = new Float32Array(x.length);
      const ys = new Int32Array(labels.length);
      order.forEach((row, r) => {
        xs.set(x.subarray(row * 6, row * 6 + 6), r * 6);
        ys[r] = labels[row];
      });
      await fit(manual, xs, ys, { ...options, epochs: 1, shuffle: false });
    }
    expect(manual.getWeights()[0].weight).toEqual(shuffled.getWeights()[0].weight);
    expect(manual.getWeights()[1].bias).toEqual(shuffled.getWeights()[1].bias);
  });

  it('records the schedule value of each step', async () => {
    const history = await fit(new JsMlp(layers, 'relu', 1), x, labels, {
      epochs: 4,
      batchSize: 32,
      recordSteps: true,
      schedule: { maxLr: 0.1, threePhase: true },
    });
    const schedule = new JsScheduleEngine(resolveOneCycle({ maxLr: 0.1, totalSteps: 16, threePhase: true }));
    const { lr, momentum } = schedule.arrays();
    expect(history.totalSteps).toBe(16);
    expect(history.steps!.lr).toEqual(lr[0]);
    expect(history.steps!.momentum).toEqual(momentum![0]);
    history.epochs.forEach((record, e) => {
      expect(record.epoch).toBe(e + 1);
      expect(record.lr).toBe(lr[0][4 * e + 3]);
      expect(record.momentum).toBe(momentum![0][4 * e + 3]);
    });
  });

  it('weights the epoch loss by batch size', async () => {
    const history = await fit(new JsMlp(layers, 'relu', 1), x, labels, {
      epochs: 1,
      batchSize: 50,
      recordSteps: true,
    });
    const [a, b, c] = history.steps!.loss;
    expect(history.epochs[0].loss).toBeCloseTo((50 * a + 50 * b + 20 * c) / 120, 12);
  });

  it('uses the optimizer constants without a schedule', async () => {
    const history = await fit(new JsMlp(layers, 'relu', 1), x, values, {
      epochs: 1,
      batchSize: 40,
      recordSteps: true,
      optimizer: { lr: 0.03, momentum: 0.5 },
    });
    expect(Array.from(history.steps!.lr)).toEqual([0.03, 0.03, 0.03]);
    expect(Array.from(history.steps!.momentum)).toEqual([0.5, 0.5, 0.5]);
  });

  it('skips the short batch with dropLast', async () => {
    const history = await fit(new JsMlp(layers, 'relu', 1), x, labels, {
      epochs: 3,
      batchSize: 50,
      dropLast: true,
      schedule: { maxLr: 0.1 },
    });
    expect(history.totalSteps).toBe(6);
  });

  it('reports validation loss and accuracy equal to evaluate', async () => {
    const model = new JsMlp(layers, 'relu', 1);
    const validation = dataset(30, 6, 3, 99);
    const records: number[] = [];
    const history = await fit(model, x, labels, {
      epochs: 2,
      validation: { x: validation.x, y: validation.labels },
      onEpoch: (record) => records.push(record.epoch),
    });
    expect(records).toEqual([1, 2]);
    const last = history.epochs[1];
    const evaluation = model.evaluate(validation.x, 30, validation.labels, 'cross_entropy');
    expect(last.valLoss).toBe(evaluation.loss);
    expect(last.valAccuracy).toBe(evaluation.accuracy);
    expect(last.seconds).toBeGreaterThan(0);
    expect(last.samplesPerSecond).toBeGreaterThan(0);
  });

  it('reports no accuracy for mse', async () => {
    const validation = dataset(30, 6, 3, 99);
    const history = await fit(new JsMlp(layers, 'relu', 1), x, values, {
      epochs: 1,
      validation: { x: validation.x, y: validation.values },
    });
    expect(history.epochs[0].valLoss).toBeGreaterThan(0);
    expect(history.epochs[0]).not.toHaveProperty('valAccuracy');
  });

  it('rejects a diverging run and keeps the old weights', async () => {
    const model = new JsMlp(layers, 'relu', 1);
    const before = model.getWeights();
    await expect(
      fit(model, x, values.map((v) => v * 1e3), {
        epochs: 5,
        batchSize: 8,
        schedule: { maxLr: 1e4 },
      }),
    ).rejects.toThrow(/loss is (NaN|Infinity) at epoch \d+, step \d+ of 15, with learning rate [\d.e+-]+\. Lower schedule\.maxLr/);
    expect(model.getWeights()).toEqual(before);
  });

  it('aborts with an AbortError and keeps the old weights', async () => {
    const model = new JsMlp(layers, 'relu', 1);
    const before = model.getWeights();
    const controller = new AbortController();
    const run = fit(model, x, labels, { epochs: 100_000, batchSize: 4, signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(model.getWeights()).toEqual(before);
  });

  it('rejects at once when the signal has already fired', async () => {
    const model = new JsMlp(layers, 'relu', 1);
    await expect(
      fit(model, x, labels, { epochs: 1, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('keeps timers running during a long run', async () => {
    const model = new JsMlp([6, 256, 256, 3], 'relu', 1);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    await fit(model, x, labels, { epochs: 40, batchSize: 8 });
    clearInterval(timer);
    const elapsed = performance.now() - started;
    // A 5 ms timer fires at least once per yield, which comes every 10 ms
    // plus one batch. Requiring a quarter of the ideal count leaves room
    // for a loaded machine.
    expect(elapsed).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(elapsed / 5 / 4);
  });

  it('commits the weights only when the run succeeds', async () => {
    const model = new JsMlp(layers, 'relu', 1);
    const before = model.getWeights();
    const run = fit(model, x, labels, { epochs: 2 });
    expect(model.getWeights()).toEqual(before);
    await run;
    expect(model.getWeights()[0].weight).not.toEqual(before[0].weight);
  });

  it('rejects a second fit while one runs', async () => {
    const model = new JsMlp(layers, 'relu', 1);
    const first = fit(model, x, labels, { epochs: 2 });
    await expect(fit(model, x, labels, { epochs: 1 })).rejects.toThrow(/already running/);
    await first;
  });

  it('learns a separable problem', async () => {
    const model = new JsMlp(layers, 'relu', 1);
    const history = await fit(model, x, labels, {
      epochs: 30,
      batchSize: 16,
      optimizer: { momentum: 0.9 },
      schedule: { maxLr: 0.1 },
    });
    expect(history.epochs[29].loss).toBeLessThan(history.epochs[0].loss / 2);
  });
});

describe('JsMlp predict and evaluate', () => {
  /** Creates one linear layer with weight [[1, 2], [3, -1]] and bias
   * [0.5, -0.5]. */
  function linearModel() {
    const model = new JsMlp([2, 2], 'identity', 0);
    model.setWeights([
      { weight: Float32Array.of(1, 2, 3, -1), bias: Float32Array.of(0.5, -0.5), shape: [2, 2] },
    ]);
    return model;
  }
  const x = Float32Array.of(1, 0, 0, 1, 2, 2);

  it('computes x W^T + b', () => {
    expect(Array.from(linearModel().predict(x, 3))).toEqual([1.5, 2.5, 2.5, -1.5, 6.5, 3.5]);
  });

  it('predicts in chunks of rows', () => {
    const model = new JsMlp([6, 8, 3], 'tanh', 4);
    const { x: big } = dataset(1000, 6, 3);
    const all = model.predict(big, 1000);
    const tail = model.predict(big.subarray(6 * 900), 100);
    expect(all.subarray(3 * 900)).toEqual(tail);
  });

  it('computes mse by hand', () => {
    const y = Float32Array.of(1.5, 2.5, 2.5, -0.5, 6.5, 5.5);
    // Squared errors 0, 0, 0, 1, 0, 4 over 6 values.
    expect(linearModel().evaluate(x, 3, y, 'mse')).toEqual({ loss: 5 / 6, accuracy: null });
  });

  it('computes cross-entropy and accuracy by hand', () => {
    const labels = Int32Array.of(1, 1, 0);
    const rowLoss = (z: number[], label: number) =>
      Math.log(z.reduce((sum, v) => sum + Math.exp(v), 0)) - z[label];
    const expected =
      (rowLoss([1.5, 2.5], 1) + rowLoss([2.5, -1.5], 1) + rowLoss([6.5, 3.5], 0)) / 3;
    const result = linearModel().evaluate(x, 3, labels, 'cross_entropy');
    expect(result.loss).toBeCloseTo(expected, 14);
    expect(result.accuracy).toBe(2 / 3);
  });

  it('computes binary cross-entropy and accuracy by hand', () => {
    const y = Float32Array.of(1, 0, 1, 1, 0, 0.5);
    const z = [1.5, 2.5, 2.5, -1.5, 6.5, 3.5];
    const expected =
      z.reduce((sum, v, i) => sum + Math.log(1 + Math.exp(-v)) + (1 - y[i]) * v, 0) / 6;
    const result = linearModel().evaluate(x, 3, y, 'bce_with_logits');
    expect(result.loss).toBeCloseTo(expected, 12);
    // z > 0 agrees with y >= 0.5 at values 0, 2 and 5.
    expect(result.accuracy).toBe(3 / 6);
  });
});
