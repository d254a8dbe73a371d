import { describe, expect, it } from 'vitest';
import { median, summarize, maxRelativeError } from './lib/stats';
import { renderMarkdown, trainingRatios } from './lib/report';
import { renderChart } from './lib/chart';
import { rowsPerCall, parameterCount, TRAINING_CASES } from './lib/cases';

function trainingEntry(name, engines) {
  return {
    name,
    kind: 'training',
    layers: [4, 3, 2],
    parameters: parameterCount([4, 3, 2]),
    batchSize: 2,
    loss: 'mse',
    data: 'test rows',
    engines,
    ratios: trainingRatios(engines),
  };
}

function engineResult(samplesPerSecond) {
  return {
    rowsPerCall: 8,
    stats: { median: 8 / samplesPerSecond, rme: 1.5 },
    samplesPerSecond,
    msPerBatch: 2000 / samplesPerSecond,
    finalLoss: 0.5,
  };
}

function results(cases) {
  return {
    generatedAt: '2024-01-01T00:00:00.000Z',
    mode: 'quick',
    threads: 2,
    timing: { minSamples: 2, maxTime: 0.25 },
    machine: {
      cpu: 'Test CPU <model>',
      cpuMHz: 1000,
      simd: ['avx2'],
      logicalCores: 2,
      memoryGiB: 1,
      os: 'Linux',
      loadAverageAtStart: [0, 0, 0],
      node: 'v20.0.0',
      rustc: null,
      onecycle: '0.0.0',
      commit: null,
      benchmarkJs: '2.1.4',
    },
    loadAverageAtEnd: [0, 0, 0],
    anchors: {
      tfjs: { available: false, reason: 'not installed' },
      torch: { available: false, reason: 'no Python with torch' },
    },
    cases,
    notes: [],
  };
}

describe('median', () => {
  it('picks the middle of an odd sample', () => {
    expect(median([3, 1, 2])).toBe(2);
  });

  it('averages the middle pair of an even sample', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('summarize', () => {
  it('matches hand-computed benchmark.js statistics', () => {
    // mean 2, sample deviation 1, sem 1/sqrt(3), t(2 df) = 4.303
    const stats = summarize([1, 2, 3]);
    expect(stats.mean).toBe(2);
    expect(stats.median).toBe(2);
    expect(stats.deviation).toBeCloseTo(1, 12);
    expect(stats.rme).toBeCloseTo((4.303 / Math.sqrt(3) / 2) * 100, 9);
    expect(stats.samples).toBe(3);
  });
});

describe('maxRelativeError', () => {
  it('scales by the largest reference value', () => {
    expect(maxRelativeError([1, 2.5], [1, 2])).toBeCloseTo(0.25, 12);
  });

  it('returns NaN when an output is NaN', () => {
    expect(maxRelativeError([NaN, 1], [1, 1])).toBeNaN();
  });

  it('returns Infinity on length mismatch', () => {
    expect(maxRelativeError([1], [1, 2])).toBe(Infinity);
  });
});

describe('rowsPerCall', () => {
  const wide = TRAINING_CASES.find((c) => c.name === 'wide-784-1024-1024-10');
  const mnist = TRAINING_CASES.find((c) => c.name === 'mnist-784-256-128-10');

  it('uses the whole epoch without a cap', () => {
    expect(rowsPerCall(mnist, 'native', 8000, false)).toBe(8000);
  });

  it('caps slow engines at their batch count', () => {
    expect(rowsPerCall(wide, 'tfjs-cpu', 4096, false)).toBe(256);
  });

  it('applies the quick cap to every engine', () => {
    expect(rowsPerCall(mnist, 'native', 8000, true)).toBe(4 * 128);
  });
});

describe('renderMarkdown', () => {
  it('marks skipped engines and aborted cases', () => {
    const entry = trainingEntry('tiny', {
      native: engineResult(1000),
      js: engineResult(250),
      torch: { skipped: 'no Python with torch' },
    });
    const aborted = { ...trainingEntry('broken', {}), error: 'engines differ' };
    const markdown = renderMarkdown(results([entry, aborted]));
    expect(markdown).toContain('| tiny | 4× | — | — | — |');
    expect(markdown).toContain('skipped: no Python with torch');
    expect(markdown).toContain('aborted: engines differ');
    expect(markdown).toContain('TensorFlow.js: skipped (not installed)');
  });
});

describe('renderChart', () => {
  it('draws one bar per measurement', () => {
    const entry = trainingEntry('tiny', {
      native: engineResult(12000),
      js: engineResult(300),
      torch: { skipped: 'no Python with torch' },
    });
    const svg = renderChart(results([entry]));
    expect(svg.match(/<title>/g)).toHaveLength(2);
    expect(svg).toContain('Test CPU &lt;model&gt;');
    expect(svg).toContain('training samples per second (log scale)');
  });

  it('returns null without any measurement', () => {
    expect(renderChart(results([]))).toBeNull();
  });
});
