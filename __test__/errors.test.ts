import { describe, expect, it } from 'vitest';
import { Mlp, OneCycleLR } from '../ts/index';
import { BACKENDS } from './golden';

describe.each(BACKENDS)('errors on the %s engine', (backend) => {
  const x = new Float32Array(40).map((_, i) => (i % 7) / 7);
  const labels = Int32Array.from({ length: 10 }, (_, i) => i % 3);

  it('rejects bad layer lists, naming the value', () => {
    expect(() => new Mlp({ layers: [4], backend })).toThrow(/layers/);
    expect(() => new Mlp({ layers: [4, 0, 3], backend })).toThrow(/layers.*0/);
    expect(() => new Mlp({ layers: [4, 2.5, 3], backend })).toThrow(/2\.5/);
    expect(() => new Mlp({ layers: [4, 3], activation: 'swish' as never, backend })).toThrow(/swish/);
    expect(() => new Mlp({ layers: [4, 3], seed: -1, backend })).toThrow(/seed.*-1/);
  });

  it('rejects data whose length does not fit the layers', async () => {
    const model = new Mlp({ layers: [4, 8, 3], backend });
    await expect(model.fit(new Float32Array(41), labels, { epochs: 1 })).rejects.toThrow(/41.*4/);
    await expect(model.fit(x, labels.subarray(0, 9), { epochs: 1 })).rejects.toThrow(/9.*10/);
    expect(() => model.predict(new Float32Array(6))).toThrow(/6.*4/);
  });

  it('rejects NaN inputs and out-of-range labels, naming the row', async () => {
    const model = new Mlp({ layers: [4, 8, 3], backend });
    const bad = x.slice();
    bad[9] = NaN;
    await expect(model.fit(bad, labels, { epochs: 1 })).rejects.toThrow(/row 2/);
    const wrong = labels.slice();
    wrong[5] = 3;
    await expect(model.fit(x, wrong, { epochs: 1 })).rejects.toThrow(/row 5.*3/);
  });

  it('rejects bad training options, naming the value', async () => {
    const model = new Mlp({ layers: [4, 8, 3], backend });
    await expect(model.fit(x, labels, { epochs: 0 })).rejects.toThrow(/epochs.*0/);
    await expect(model.fit(x, labels, { epochs: 1, batchSize: -2 })).rejects.toThrow(/batchSize.*-2/);
    await expect(
      model.fit(x, labels, { epochs: 1, optimizer: { nesterov: true, dampening: 0.5, momentum: 0.9 } }),
    ).rejects.toThrow(/Nesterov/);
    await expect(model.fit(x, labels, { epochs: 1, schedule: { maxLr: 0.1, pctStart: 2 } })).rejects.toThrow(
      /pctStart.*2/,
    );
  });

  it('rejects weights of the wrong shape, naming the layer', () => {
    const model = new Mlp({ layers: [4, 8, 3], backend });
    const weights = model.getWeights();
    weights[1] = { ...weights[1], weight: new Float32Array(5) };
    expect(() => model.setWeights(weights)).toThrow(/layer 1/);
  });

  it('stops on abort and keeps the weights from before fit', async () => {
    const model = new Mlp({ layers: [4, 8, 3], seed: 1, backend });
    const before = model.getWeights();
    const controller = new AbortController();
    const run = model.fit(x, labels, {
      epochs: 100_000,
      batchSize: 2,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(run).rejects.toThrow(/abort/i);
    expect(model.getWeights()[0].weight).toEqual(before[0].weight);
  });

  it('throws on the step after the cycle, naming the total and the count', () => {
    const schedule = new OneCycleLR({ maxLr: 0.1, totalSteps: 3, backend });
    for (let i = 0; i < 3; i++) schedule.step();
    expect(() => schedule.step()).toThrow(/called 4 times.*3 steps/);
  });
});
