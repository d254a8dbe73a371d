import { describe, expect, it } from 'vitest';
import { loadMnist, Mlp } from '../ts/index';

describe('Mlp on MNIST digits', () => {
  const split = loadMnist({ seed: 0 });

  it('splits 10,000 digits into 8,000 and 2,000 the same way for a seed', () => {
    expect(split.trainRows).toBe(8000);
    expect(split.testRows).toBe(2000);
    expect(split.xTrain).toHaveLength(8000 * 784);
    const again = loadMnist({ seed: 0 });
    expect(again.yTest).toEqual(split.yTest);
    const other = loadMnist({ seed: 1 });
    expect(other.yTest).not.toEqual(split.yTest);
  });

  it('reaches 90% test accuracy in 2 epochs while the event loop runs', async () => {
    const model = new Mlp({ layers: [784, 128, 10], seed: 0, backend: 'native' });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    const history = await model.fit(split.xTrain, split.yTrain, {
      epochs: 2,
      batchSize: 64,
      optimizer: { momentum: 0.9, weightDecay: 5e-4 },
      schedule: { maxLr: 0.1 },
      validation: { x: split.xTest, y: split.yTest },
    });
    clearInterval(timer);
    const elapsed = Date.now() - started;

    const { accuracy } = model.evaluate(split.xTest, split.yTest);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    expect(history.epochs.at(-1)!.valAccuracy).toBe(accuracy);
    // A blocked main thread would fire the 5 ms timer once or twice at most.
    // A free one fires it on a good fraction of the intervals.
    expect(ticks).toBeGreaterThan(Math.min(20, elapsed / 20));
  });
});
