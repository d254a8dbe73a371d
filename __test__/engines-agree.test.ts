import { describe, expect, it } from 'vitest';
import { Mlp } from '../ts/index';
import { BACKENDS, firstMismatch, relativeNorm } from './golden';

/** Builds a seeded data set: features from a linear congruential
 * sequence and 4-class labels from a fixed rule on the first four. */
function dataset(rows: number, inputs: number) {
  const x = new Float32Array(rows * inputs);
  let state = 12345;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    x[i] = state / 2 ** 32 - 0.5;
  }
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const a = x[r * inputs] + x[r * inputs + 1];
    const b = x[r * inputs + 2] - x[r * inputs + 3];
    y[r] = (a > 0 ? 1 : 0) + (b > 0 ? 2 : 0);
  }
  return { x, y };
}

const fitOptions = {
  epochs: 10,
  batchSize: 16,
  seed: 7,
  recordSteps: true,
  optimizer: { momentum: 0.9, weightDecay: 1e-4 },
  schedule: { maxLr: 0.05 },
};

describe('native and TypeScript engines', () => {
  const { x, y } = dataset(320, 12);

  it('start from bit-identical weights for a seed', () => {
    const native = new Mlp({ layers: [12, 32, 16, 4], seed: 99, backend: 'native' });
    const js = new Mlp({ layers: [12, 32, 16, 4], seed: 99, backend: 'js' });
    native.getWeights().forEach((layer, l) => {
      expect(js.getWeights()[l].weight).toEqual(layer.weight);
      expect(js.getWeights()[l].bias).toEqual(layer.bias);
    });
  });

  it('agree on 200 steps of losses within 1e-5 relative', async () => {
    const runs = await Promise.all(
      BACKENDS.map((backend) =>
        new Mlp({ layers: [12, 32, 16, 4], activation: 'tanh', seed: 3, backend }).fit(x, y, fitOptions),
      ),
    );
    const [native, js] = runs.map((history) => history.steps!);
    expect(native.loss).toHaveLength(200);
    // Both engines round every product to float32 but sum in different
    // orders (blocked GEMM against plain loops), a difference of a few ulps
    // per step that stays below 1e-5 over 200 steps.
    expect(firstMismatch(js.loss, native.loss, 1e-5)).toBeNull();
    // Both compute the schedule in f64; Math.cos and Rust's cos may differ
    // by an ulp.
    expect(firstMismatch(js.lr, native.lr, 1e-12)).toBeNull();
  });

  it('predict within 1e-6 on the same weights', () => {
    const native = new Mlp({ layers: [12, 64, 4], activation: 'gelu', seed: 5, backend: 'native' });
    const js = new Mlp({ layers: [12, 64, 4], activation: 'gelu', backend: 'js' });
    js.setWeights(native.getWeights());
    // Float32 sums of 64 products in two orders differ by a few ulps of the
    // largest term. Over the whole output, that stays below 1e-6.
    expect(relativeNorm(js.predict(x), native.predict(x))).toBeLessThan(1e-6);
  });
});

describe.each(BACKENDS)('determinism on the %s engine', (backend) => {
  it('gives bit-identical weights for the same seed', async () => {
    const { x, y } = dataset(320, 12);
    const weights = [];
    for (let run = 0; run < 2; run++) {
      const model = new Mlp({ layers: [12, 32, 4], seed: 11, backend });
      await model.fit(x, y, { ...fitOptions, epochs: 2 });
      weights.push(model.getWeights());
    }
    weights[0].forEach((layer, l) => {
      expect(weights[1][l].weight).toEqual(layer.weight);
      expect(weights[1][l].bias).toEqual(layer.bias);
    });
  });
});

describe('native engine threads', () => {
  it('give bit-identical weights with 1 and 2 threads', async () => {
    // Large enough for the matrix products to split across threads.
    const { x, y } = dataset(1024, 256);
    const labels = y.map((label) => label % 4);
    const weights = [];
    for (const threads of [1, 2]) {
      const model = new Mlp({ layers: [256, 512, 4], seed: 4, threads, backend: 'native' });
      await model.fit(x, labels, { ...fitOptions, epochs: 1, batchSize: 256 });
      weights.push(model.getWeights());
    }
    weights[0].forEach((layer, l) => {
      expect(weights[1][l].weight).toEqual(layer.weight);
    });
  });
});
