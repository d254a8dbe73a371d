import { describe, expect, it } from 'vitest';
import { Mlp, type EpochRecord } from '../ts/index';
import { BACKENDS } from './golden';

/** 100 seeded rows of 3 features with a regression target (their sum),
 * a 2-class label and a 0/1 target for bce. */
function dataset() {
  const rows = 100;
  const x = new Float32Array(rows * 3);
  let state = 42;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    x[i] = state / 2 ** 32 - 0.5;
  }
  const sum = Float32Array.from({ length: rows }, (_, r) => x[3 * r] + x[3 * r + 1] + x[3 * r + 2]);
  const labels = Int32Array.from(sum, (s) => (s > 0 ? 1 : 0));
  const binary = Float32Array.from(labels);
  return { rows, x, sum, labels, binary };
}

describe.each(BACKENDS)('Mlp.fit on the %s engine', (backend) => {
  const data = dataset();

  it('calls onEpoch once per epoch, in order, before resolving', async () => {
    const model = new Mlp({ layers: [3, 8, 2], backend });
    const seen: EpochRecord[] = [];
    const history = await model.fit(data.x, data.labels, {
      epochs: 5,
      batchSize: 10,
      schedule: { maxLr: 0.1 },
      onEpoch: (record) => seen.push(record),
    });
    expect(seen.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(seen).toEqual(history.epochs);
  });

  it('records every step and ends the cycle at the last batch', async () => {
    const model = new Mlp({ layers: [3, 8, 1], backend });
    const history = await model.fit(data.x, data.sum, {
      epochs: 3,
      batchSize: 32,
      schedule: { maxLr: 0.05, divFactor: 10, finalDivFactor: 100 },
      recordSteps: true,
    });
    // 100 rows in batches of 32: 4 steps per epoch, the last one of 4 rows.
    expect(history.totalSteps).toBe(12);
    expect(history.steps!.lr).toHaveLength(12);
    expect(history.steps!.lr[0]).toBeCloseTo(0.005, 15);
    expect(history.steps!.lr[11]).toBeCloseTo(0.00005, 15);
    expect(history.epochs[2].lr).toBe(history.steps!.lr[11]);
  });

  it('drops the short batch with dropLast', async () => {
    const model = new Mlp({ layers: [3, 8, 1], backend });
    const history = await model.fit(data.x, data.sum, {
      epochs: 2,
      batchSize: 32,
      dropLast: true,
      recordSteps: true,
    });
    expect(history.totalSteps).toBe(6);
  });

  it('keeps the optimizer rate constant without a schedule', async () => {
    const model = new Mlp({ layers: [3, 8, 1], backend });
    const history = await model.fit(data.x, data.sum, {
      epochs: 2,
      batchSize: 25,
      optimizer: { lr: 0.02, momentum: 0.5 },
      recordSteps: true,
    });
    expect([...history.steps!.lr]).toEqual(new Array(8).fill(0.02));
    expect([...history.steps!.momentum]).toEqual(new Array(8).fill(0.5));
  });

  it('learns the regression target and reports no accuracy for mse', async () => {
    const model = new Mlp({ layers: [3, 16, 1], seed: 1, backend });
    const before = model.evaluate(data.x, data.sum).loss;
    await model.fit(data.x, data.sum, {
      epochs: 40,
      batchSize: 10,
      optimizer: { momentum: 0.9 },
      schedule: { maxLr: 0.05 },
    });
    const after = model.evaluate(data.x, data.sum);
    expect(after.accuracy).toBeNull();
    expect(after.loss).toBeLessThan(before / 10);
  });

  it('reports validation loss and accuracy for bce_with_logits', async () => {
    const model = new Mlp({ layers: [3, 16, 1], seed: 2, backend });
    const history = await model.fit(data.x, data.binary, {
      epochs: 30,
      batchSize: 10,
      loss: 'bce_with_logits',
      schedule: { maxLr: 0.5 },
      validation: { x: data.x, y: data.binary },
    });
    const last = history.epochs.at(-1)!;
    expect(last.valAccuracy).toBeGreaterThan(0.9);
    expect(last.valLoss).toBeCloseTo(model.evaluate(data.x, data.binary, 'bce_with_logits').loss, 6);
  });

  it('returns rows * outputs predictions', () => {
    const model = new Mlp({ layers: [3, 4, 2], backend });
    expect(model.predict(data.x)).toHaveLength(200);
    expect(model.predict(new Float32Array(0))).toHaveLength(0);
  });

  it('rejects a second fit while one runs', async () => {
    const model = new Mlp({ layers: [3, 8, 2], backend });
    const first = model.fit(data.x, data.labels, { epochs: 20, batchSize: 1 });
    await expect(model.fit(data.x, data.labels, { epochs: 1 })).rejects.toThrow(/already running/);
    await first;
  });
});
