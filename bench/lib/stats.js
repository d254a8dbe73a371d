'use strict';

// Two-sided 95% quantiles of Student's t by degrees of freedom, the table
// benchmark.js 2.1 uses for its relative margin of error (rme).
const T_TABLE = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];
const T_INFINITY = 1.96;

/** Median of an array of numbers. */
function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Summarizes seconds per operation with the fields of benchmark.js `stats`
 * (mean, deviation, rme in percent) plus the median. Used for timings that
 * do not come from benchmark.js (the PyTorch anchor).
 */
function summarize(sample) {
  const n = sample.length;
  const mean = sample.reduce((sum, x) => sum + x, 0) / n;
  const variance = n > 1 ? sample.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1) : 0;
  const deviation = Math.sqrt(variance);
  const sem = n > 0 ? deviation / Math.sqrt(n) : 0;
  const critical = T_TABLE[n - 2] ?? T_INFINITY;
  const rme = mean > 0 ? ((sem * critical) / mean) * 100 : 0;
  return { median: median(sample), mean, deviation, rme, samples: n, sample };
}

/** Copies the fields this suite reports from a benchmark.js `stats`. */
function fromBenchmarkStats(stats) {
  return {
    median: median(stats.sample),
    mean: stats.mean,
    deviation: stats.deviation,
    rme: stats.rme,
    samples: stats.sample.length,
    sample: [...stats.sample],
  };
}

/**
 * Largest absolute difference between two arrays, divided by the largest
 * absolute value of the reference: a norm-wise relative error that stays
 * meaningful when single outputs are near zero.
 */
function maxRelativeError(actual, expected) {
  if (actual.length !== expected.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(diff)) return NaN;
    maxDiff = Math.max(maxDiff, diff);
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / Math.max(maxRef, Number.MIN_VALUE);
}

module.exports = { median, summarize, fromBenchmarkStats, maxRelativeError };
