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

  it('rejects sizes that would exhaust memory or threads', () => {
    expect(() => new Mlp({ layers: [100_000, 100_000], backend })).toThrow(/layer 0 .*1 GiB/);
    expect(() => new Mlp({ layers: [4, 2 ** 32], backend })).toThrow(/layers\[1\] must be at most/);
    expect(() => new Mlp({ layers: [4, 3], threads: 100_000, backend })).toThrow(/threads.*256/);
    const schedule = new OneCycleLR({ maxLr: 0.1, totalSteps: 2 ** 28, backend });
    expect(() => schedule.getSchedule()).toThrow(/totalSteps is 268435456/);
    expect(() => new OneCycleLR({ maxLr: 0.1, totalSteps: 10, groups: 1e9, backend })).toThrow(/groups/);
  });

  it('rejects epoch counts whose steps overflow', async () => {
    const model = new Mlp({ layers: [4, 8, 3], backend });
    await expect(model.fit(x, labels, { epochs: 2 ** 31, batchSize: 2 })).rejects.toThrow(/steps.*lower epochs/);
  });

  it('stops and rejects when onEpoch throws, keeping the weights', async () => {
    const model = new Mlp({ layers: [4, 8, 3], seed: 1, backend });
    const before = model.getWeights();
    const failure = new Error('callback failed');
    let calls = 0;
    const run = model.fit(x, labels, {
      epochs: 50_000,
      batchSize: 2,
      onEpoch: () => {
        calls += 1;
        throw failure;
      },
    });
    await expect(run).rejects.toBe(failure);
    expect(calls).toBe(1);
    expect(model.getWeights()[0].weight).toEqual(before[0].weight);
  });

  it('rejects setWeights while fit runs', async () => {
    const model = new Mlp({ layers: [4, 8, 3], backend });
    const run = model.fit(x, labels, { epochs: 20, batchSize: 1 });
    expect(() => model.setWeights(model.getWeights())).toThrow(/while fit is training/);
    await run;
    expect(() => model.setWeights(model.getWeights())).not.toThrow();
  });

  it('rejects a state with a bad lastEpoch', () => {
    const state = new OneCycleLR({ maxLr: 0.1, totalSteps: 10, backend }).state();
    expect(() => OneCycleLR.fromState({ ...state, lastEpoch: 11 }, backend)).toThrow(
      /lastEpoch must be an integer in \[0, 10\], got 11/,
    );
    expect(() => OneCycleLR.fromState({ ...state, lastEpoch: '2' as never }, backend)).toThrow(
      /lastEpoch.*"2"/,
    );
  });

  it('throws on the step after the cycle, naming the total and the count', () => {
    const schedule = new OneCycleLR({ maxLr: 0.1, totalSteps: 3, backend });
    for (let i = 0; i < 3; i++) schedule.step();
    expect(() => schedule.step()).toThrow(/called 4 times.*3 steps/);
  });
});
