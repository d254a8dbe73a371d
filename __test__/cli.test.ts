import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../ts/cli';

let stdout: string[];
let stderr: string[];
const dir = mkdtempSync(join(tmpdir(), 'onecycle-cli-'));

beforeEach(() => {
  stdout = [];
  stderr = [];
  vi.spyOn(console, 'log').mockImplementation((...parts) => void stdout.push(parts.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...parts) => void stderr.push(parts.join(' ')));
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Writes a CSV file of `rows` seeded samples: two informative features,
 * one noise feature, an integer label, optionally a class name, and a
 * continuous target. */
function writeCsv(name: string, rows: number, withSpecies = true): string {
  const lines = [withSpecies ? 'a,b,noise,label,species,price' : 'a,b,noise,label,price'];
  let state = 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let i = 0; i < rows; i++) {
    const a = next() * 10;
    const b = next() * 100 - 50;
    const label = a > 5 === b > 0 ? 1 : 0;
    const species = ['setosa', 'versicolor', 'virginica'][Math.floor(a / 3.34)];
    const text = withSpecies ? `,${species}` : '';
    lines.push(`${a},${b},${next()},${label}${text},${1000 + 20 * a - 3 * b}`);
  }
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

describe('onecycle train --data', () => {
  it('infers classification from integer labels and learns them', async () => {
    const path = writeCsv('labels.csv', 600);
    const code = await main(['train', '--data', path, '--target', 'species', '--epochs', '20']);
    expect(stderr.join('\n')).toMatch(/classification with 3 classes/);
    expect(code).toBe(0);
    const accuracy = Number(/test accuracy ([\d.]+)%/.exec(stdout.at(-1)!)![1]);
    expect(accuracy).toBeGreaterThan(90);
  });

  it('infers regression and reports errors in target units', async () => {
    const path = writeCsv('prices.csv', 800, false);
    const code = await main(['train', '--data', path, '--target', 'price', '--epochs', '30', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout.at(-1)!);
    expect(result.loss).toBe('mse');
    // The target spans about 200 units; a fitted linear rule errs by a few.
    expect(result.test.rmse).toBeLessThan(20);
    expect(result.test.rmse).toBeGreaterThan(0);
  });

  it('reports a missing file', async () => {
    const code = await main(['train', '--data', join(dir, 'absent.csv'), '--target', 'x']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/not found: .*absent\.csv/);
  });

  it('reports a missing column with the header', async () => {
    const path = writeCsv('columns.csv', 20);
    const code = await main(['train', '--data', path, '--target', 'colour']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/'colour' not found.*a, b, noise/);
  });

  it('names the line and column of a non-numeric cell', async () => {
    const path = join(dir, 'text.csv');
    writeFileSync(path, 'a,b,y\n1,2,0\n3,abc,1\n5,6,0\n7,8,1\n');
    const code = await main(['train', '--data', path, '--target', 'y']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/line 3, column 'b' is 'abc'/);
  });

  it('names the line of a value beyond float32', async () => {
    const path = join(dir, 'huge.csv');
    writeFileSync(path, 'a,b,y\n1,2,0\n3,1e40,1\n5,6,0\n7,8,1\n');
    const code = await main(['train', '--data', path, '--target', 'y']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/line 3, column 'b' is '1e40', not a number within the float32 range/);
  });

  it('rejects a header that repeats a name', async () => {
    const path = join(dir, 'repeat.csv');
    writeFileSync(path, 'a,a,y\n1,2,0\n3,4,1\n5,6,0\n');
    const code = await main(['train', '--data', path, '--target', 'y']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/column 'a' twice/);
  });

  it('hints at the delimiter of a semicolon file', async () => {
    const path = join(dir, 'semicolon.csv');
    writeFileSync(path, 'a;b;y\n1;2;0\n3;4;1\n5;6;0\n');
    const code = await main(['train', '--data', path, '--target', 'y']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/another delimiter; onecycle reads comma-separated files/);
  });

  it('rejects --target without --data', async () => {
    const code = await main(['train', '--target', 'price']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/--target and --task apply to --data/);
  });

  it('rejects an unknown option', async () => {
    const code = await main(['train', '--epoch', '3']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/--epoch/);
  });

  it('names the flag of an out-of-range value', async () => {
    const cases: [string[], RegExp][] = [
      [['--epochs', '0'], /--epochs must be >= 1, got '0'/],
      [['--pct-start', '2'], /--pct-start must be >= 0 and <= 1, got '2'/],
      [['--anneal', 'cosine'], /--anneal must be one of cos, linear, got 'cosine'/],
      [['--threads', '1000'], /--threads must be >= 1 and <= 256/],
      [['--test-split', '1'], /--test-split must be > 0 and < 1/],
    ];
    for (const [args, pattern] of cases) {
      stderr.length = 0;
      const code = await main(['train', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.join('\n')).toMatch(pattern);
    }
  });

  it('rejects a non-numeric option value, naming it', async () => {
    const code = await main(['train', '--epochs', 'ten']);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(/--epochs must be a number, got 'ten'/);
  });
});
