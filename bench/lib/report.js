'use strict';

const ENGINE_LABELS = {
  native: 'onecycle native',
  js: 'onecycle js',
  'tfjs-cpu': 'tfjs cpu',
  'tfjs-wasm': 'tfjs wasm',
  torch: 'PyTorch',
};
const ANCHORS = ['js', 'tfjs-cpu', 'tfjs-wasm', 'torch'];

function fixed(value, digits) {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/** Number with three significant digits and thousands separators. */
function significant(value) {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toString();
}

function ratio(numerator, denominator) {
  return Number.isFinite(numerator) && Number.isFinite(denominator) && denominator > 0
    ? numerator / denominator
    : NaN;
}

/** native samples/s divided by each other engine's, per training case. */
function trainingRatios(engines) {
  const native = engines.native?.samplesPerSecond;
  const ratios = {};
  for (const other of ANCHORS) {
    ratios[`native/${other}`] = ratio(native, engines[other]?.samplesPerSecond);
  }
  return ratios;
}

function describeTorch(torch) {
  if (!torch.available) return `PyTorch: skipped (${torch.reason})`;
  if (!torch.info) return `PyTorch ${torch.torch} (${torch.python})`;
  const { info } = torch;
  return (
    `PyTorch ${info.torch} (Python ${info.python}, ${info.executable}; ` +
    `torch.set_num_threads(${info.threadsRequested}) gives get_num_threads() = ${info.threads}, ` +
    `BLAS_INFO=${info.blas}, BLAS library ${info.blasLibraries.join(', ') || 'not found'}, ` +
    `MKL-DNN ${info.mkldnn ? 'available' : 'not available'})`
  );
}

function describeTfjs(tfjs) {
  if (!tfjs.available) return `TensorFlow.js: skipped (${tfjs.reason})`;
  const simd = tfjs.wasm.simd ? 'on' : 'off';
  const wasm = `wasm SIMD ${simd}, ${tfjs.wasm.multithread ? 'multithreaded' : '1 thread'}`;
  return `TensorFlow.js ${tfjs.version} (cpu backend: 1 thread; ${wasm}; ${tfjs.optimizer})`;
}

/** Markdown lines giving the machine and every version. */
function environmentLines(results) {
  const machine = results.machine;
  return [
    `- Machine: ${machine.cpu} at ${machine.cpuMHz} MHz (${machine.simd.join(', ')}), ` +
      `${machine.logicalCores} logical cores, ${machine.memoryGiB} GiB, ` +
      `${machine.os}; load average (1, 5, 15 min) ${machine.loadAverageAtStart.join(' ')} ` +
      `at start, ${results.loadAverageAtEnd.join(' ')} at end`,
    `- Node ${machine.node}, ${machine.rustc ?? 'rustc not found'}, onecycle ${machine.onecycle}` +
      `${machine.commit ? ` (commit ${machine.commit})` : ''}, benchmark.js ${machine.benchmarkJs}`,
    `- ${describeTfjs(results.anchors.tfjs)}`,
    `- ${describeTorch(results.anchors.torch)}`,
    `- Threads: ${results.threads} for onecycle native and PyTorch; mode: ${results.mode}; ` +
      `timing: at least ${results.timing.minSamples} samples and ${results.timing.maxTime} s per engine; ` +
      `${results.generatedAt}`,
  ];
}

function shapeTable(cases) {
  const lines = [
    '| case | layers | parameters | batch | loss | data |',
    '| --- | --- | ---: | ---: | --- | --- |',
  ];
  for (const c of cases) {
    if (c.kind !== 'training') continue;
    lines.push(
      `| ${c.name} | ${c.layers.join('-')} | ${c.parameters.toLocaleString('en-US')} | ` +
        `${c.batchSize} | ${c.loss} | ${c.data ?? '—'} |`,
    );
  }
  return lines;
}

function trainingTable(cases) {
  const lines = [
    '| case | engine | rows per call | median s per call | rme | samples/s | ms per batch | GFLOP/s (6 × params × samples/s) | last loss |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cases) {
    if (c.kind !== 'training') continue;
    if (c.error) {
      lines.push(`| ${c.name} | — | | | | | | | aborted: ${c.error} |`);
      continue;
    }
    for (const [engine, r] of Object.entries(c.engines)) {
      const label = ENGINE_LABELS[engine];
      if (r.skipped || r.error) {
        lines.push(
          `| ${c.name} | ${label} | | | | | | | ${r.skipped ? 'skipped' : 'failed'}: ${r.skipped ?? r.error} |`,
        );
        continue;
      }
      lines.push(
        `| ${c.name} | ${label} | ${r.rowsPerCall} | ${significant(r.stats.median)} | ` +
          `±${fixed(r.stats.rme, 1)}% | ${significant(r.samplesPerSecond)} | ` +
          `${significant(r.msPerBatch)} | ${r.gflops === undefined ? '' : fixed(r.gflops, 2)} | ` +
          `${significant(r.finalLoss)} |`,
      );
    }
  }
  return lines;
}

function ratioTable(cases) {
  const lines = [
    '| case | native/js | native/tfjs-cpu | native/tfjs-wasm | native/PyTorch |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cases) {
    if (c.kind !== 'training' || c.error) continue;
    const cells = ANCHORS.map((other) => {
      const value = c.ratios[`native/${other}`];
      return Number.isFinite(value) ? `${significant(value)}×` : '—';
    });
    lines.push(`| ${c.name} | ${cells.join(' | ')} |`);
  }
  return lines;
}

function callTable(cases) {
  const lines = [
    '| case | operation | engine | median ns per call | rme | calls/s | native/js |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cases) {
    if (c.kind !== 'calls') continue;
    if (c.error) {
      lines.push(`| ${c.name} | — | | | | | aborted: ${c.error} |`);
      continue;
    }
    for (const op of c.operations) {
      for (const [engine, r] of Object.entries(op.engines)) {
        const speedup = engine === 'native' ? `${significant(op.nativeOverJs)}×` : '';
        lines.push(
          `| ${c.name} | ${op.name} | ${ENGINE_LABELS[engine]} | ${significant(r.nsPerCall)} | ` +
            `±${fixed(r.stats.rme, 1)}% | ${significant(r.callsPerSecond)} | ${speedup} |`,
        );
      }
    }
  }
  return lines;
}

/** Renders the results as Markdown: environment, shapes, tables, notes. */
function renderMarkdown(results) {
  const lines = [
    ...environmentLines(results),
    '',
    '**Shapes**',
    '',
    ...shapeTable(results.cases),
    '',
    '**Training throughput** (median of whole timed calls; samples/s = rows per call ÷ median)',
    '',
    ...trainingTable(results.cases),
    '',
    "**Ratios** (onecycle native samples/s ÷ the other engine's; above 1 means native is faster)",
    '',
    ...ratioTable(results.cases),
    '',
    '**Single calls** (native/js = js time ÷ native time)',
    '',
    ...callTable(results.cases),
  ];
  if (results.notes.length > 0) {
    lines.push('', ...results.notes.map((note) => `- ${note}`));
  }
  return `${lines.join('\n')}\n`;
}

module.exports = { renderMarkdown, trainingRatios, ENGINE_LABELS };
