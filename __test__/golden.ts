import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OneCycleOptions } from '../ts/types';

/** Returns the folder of reference values made by real PyTorch:
 * `ONECYCLE_GOLDEN_DIR`, else `shared/golden` beside the repository. */
export function goldenDir(): string {
  const dir = process.env.ONECYCLE_GOLDEN_DIR ?? resolve(__dirname, '../../shared/golden');
  if (!existsSync(dir)) {
    throw new Error(`golden reference folder not found at ${dir}; set ONECYCLE_GOLDEN_DIR.`);
  }
  return dir;
}

/** Parses a golden JSON file, turning the strings "NaN" and "Infinity"
 * back into numbers. */
export function loadGolden<T = any>(name: string): T {
  const text = readFileSync(join(goldenDir(), name), 'utf8');
  return JSON.parse(text, (_key, value) => {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    return value;
  });
}

/** Relative difference, with an absolute floor for values near zero. */
export function relativeError(actual: number, expected: number, floor = 1e-300): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), floor);
}

/** Returns the first index where `actual` and `expected` differ by more
 * than `tolerance` relative, with both values, or null. */
export function firstMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
): string | null {
  if (actual.length !== expected.length) {
    return `length ${actual.length}, expected ${expected.length}`;
  }
  for (let i = 0; i < expected.length; i++) {
    if (!(relativeError(actual[i], expected[i]) <= tolerance)) {
      return `index ${i}: got ${actual[i]}, expected ${expected[i]}`;
    }
  }
  return null;
}

/** ‖actual − expected‖ / ‖expected‖ over flat arrays. */
export function relativeNorm(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(diff) / Math.sqrt(norm);
}

/** The engines every suite runs on. */
export const BACKENDS = ['native', 'js'] as const;

/** PyTorch's `OneCycleLR` keyword arguments and their option names here. */
const SCHEDULE_NAMES: Record<string, keyof OneCycleOptions> = {
  max_lr: 'maxLr',
  total_steps: 'totalSteps',
  epochs: 'epochs',
  steps_per_epoch: 'stepsPerEpoch',
  pct_start: 'pctStart',
  anneal_strategy: 'annealStrategy',
  cycle_momentum: 'cycleMomentum',
  base_momentum: 'baseMomentum',
  max_momentum: 'maxMomentum',
  div_factor: 'divFactor',
  final_div_factor: 'finalDivFactor',
  three_phase: 'threePhase',
};

/** Translates a golden config's PyTorch keyword arguments to our options,
 * with one parameter group per optimizer group. */
export function scheduleOptions(
  config: { optimizer: { groups: unknown[] }; scheduler_kwargs: Record<string, unknown> },
  kwargs: Record<string, unknown> = config.scheduler_kwargs,
): OneCycleOptions {
  const options: Record<string, unknown> = { groups: config.optimizer.groups.length };
  for (const [key, value] of Object.entries(kwargs)) options[SCHEDULE_NAMES[key]] = value;
  return options as unknown as OneCycleOptions;
}
