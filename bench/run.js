'use strict';

// Benchmarks of onecycle's native and TypeScript engines, with TensorFlow.js
// and PyTorch as anchors. Writes bench/results/latest.{json,md} and
// throughput.svg; see BENCHMARKS.md for what each case measures.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  TRAINING_CASES,
  CALL_CASES,
  CASE_NAMES,
  parameterCount,
  loadCaseData,
} = require('./lib/cases');
const { describeMachine, ROOT } = require('./lib/machine');
const { benchOnecycleTraining, MismatchError } = require('./lib/onecycle');
const { benchSchedule, benchCrossing } = require('./lib/calls');
const { loadTfjs, benchTfjs } = require('./lib/tfjs');
const { findTorch, benchTorch } = require('./lib/torch');
const { renderMarkdown, trainingRatios } = require('./lib/report');
const { renderChart } = require('./lib/chart');

const RESULTS_DIR = path.join(__dirname, 'results');
const BENCHMARKS_MD = path.join(ROOT, 'BENCHMARKS.md');
const MARKER_START = '<!-- bench:results:start -->';
const MARKER_END = '<!-- bench:results:end -->';
/** benchmark.js settings per engine: at least `minSamples` timed calls and
 * `maxTime` seconds. */
const TIMING = { full: { minSamples: 5, maxTime: 3 }, quick: { minSamples: 2, maxTime: 0.25 } };

const USAGE = `Usage: node bench/run.js [--quick] [--case NAME]... [--threads N]

  --quick       few rows and samples per engine: a smoke run of a minute or two
  --case NAME   run only this case (repeatable); one of:
                ${CASE_NAMES.join(', ')}
  --threads N   threads of onecycle native and PyTorch
                (default: ${os.availableParallelism()}, the CPUs)

A full run of every case also rewrites the results section of BENCHMARKS.md.`;

function parseArgs(argv) {
  const args = { quick: false, cases: [], threads: os.availableParallelism() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--case') args.cases.push(argv[++i]);
    else if (arg === '--threads') args.threads = Number(argv[++i]);
    else if (arg === '--help' || arg === '-h') args.help = true;
    else throw new Error(`unknown argument ${JSON.stringify(arg)}.\n\n${USAGE}`);
  }
  for (const name of args.cases) {
    if (!CASE_NAMES.includes(name)) {
      throw new Error(
        `unknown case ${JSON.stringify(name)}; valid cases: ${CASE_NAMES.join(', ')}.`,
      );
    }
  }
  if (!(Number.isInteger(args.threads) && args.threads > 0)) {
    throw new Error(`--threads must be a positive integer, got ${args.threads}.`);
  }
  return args;
}

function log(message) {
  process.stderr.write(`${message}\n`);
}

function loadOnecycle() {
  let onecycle;
  try {
    onecycle = require('../dist/index.js');
  } catch (error) {
    throw new Error(`dist/index.js did not load (${error.message}). Run \`npm run build\` first.`);
  }
  if (!onecycle.nativeAvailable()) {
    throw new Error('the native onecycle binary did not load. Run `npm run build` first.');
  }
  return onecycle;
}

/** Runs one anchor engine and records a prediction mismatch as its result
 * instead of aborting the whole case. */
async function runAnchor(name, run) {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof MismatchError)) throw error;
    log(`  ${name}: ${error.message}`);
    return { error: error.message };
  }
}

function isTraining(definition) {
  return definition.batchSize !== undefined;
}

/** Builds the result entry of a case before it runs: its name and shapes. */
function caseEntry(definition) {
  if (!isTraining(definition)) {
    return { name: definition.name, kind: 'calls', measures: definition.measures };
  }
  return {
    name: definition.name,
    kind: 'training',
    measures: definition.measures,
    layers: definition.layers,
    parameters: parameterCount(definition.layers),
    batchSize: definition.batchSize,
    loss: definition.loss,
    maxLr: definition.maxLr,
  };
}

async function runTrainingCase(trainingCase, entry, context, results) {
  const data = loadCaseData(trainingCase, context.onecycle);
  entry.data = data.source;
  entry.dataSubstituted = data.substituted ?? false;
  entry.engines = {};
  const { check, engines, reference } = await benchOnecycleTraining(trainingCase, data, context);
  entry.check = check;
  Object.assign(entry.engines, engines);

  const { tfjs, torch } = results.anchors;
  for (const backend of ['cpu', 'wasm']) {
    const engine = `tfjs-${backend}`;
    if (!tfjs.available) {
      entry.engines[engine] = { skipped: tfjs.reason };
      continue;
    }
    log(`  ${engine} ...`);
    entry.engines[engine] = await runAnchor(engine, () =>
      benchTfjs(trainingCase, data, reference, backend, context),
    );
  }
  if (torch.available) {
    log('  torch ...');
    const { result, info } = benchTorch(trainingCase, data, reference, torch, context);
    if (info) torch.info = info;
    if (result.error) log(`  torch: ${result.error}`);
    entry.engines.torch = result;
  } else {
    entry.engines.torch = { skipped: torch.reason };
  }
  entry.ratios = trainingRatios(entry.engines);
}

async function runCallCase(callCase, entry, context) {
  const run = callCase.name === 'schedule-1e6-steps' ? benchSchedule : benchCrossing;
  Object.assign(entry, await run(callCase, context));
}

/** Runs one case; a mismatch between engines aborts it and is recorded as
 * its `error`. */
async function runCase(definition, context, results) {
  log(`${definition.name}`);
  const entry = caseEntry(definition);
  try {
    if (isTraining(definition)) await runTrainingCase(definition, entry, context, results);
    else await runCallCase(definition, entry, context);
  } catch (error) {
    if (!(error instanceof MismatchError)) throw error;
    log(`  aborted: ${error.message}`);
    return { ...entry, error: error.message };
  }
  return entry;
}

function collectNotes(results) {
  const notes = [
    'GFLOP/s is an estimate, 6 × parameters × samples/s ÷ 1e9: 2 operations per weight ' +
      'in the forward pass, the input gradient and the weight gradient. Activations, loss ' +
      'and optimizer are left out.',
    "Last loss is the epoch's mean batch loss for onecycle and the last batch's loss for " +
      'the anchors. It shows that the run stayed finite and is not a comparison.',
    'TensorFlow.js trains at a constant learning rate because it has no 1cycle schedule. ' +
      'PyTorch steps OneCycleLR once per batch, as onecycle does.',
  ];
  const blasLibraries = results.anchors.torch.info?.blasLibraries ?? [];
  if (blasLibraries.some((file) => /\/blas\/libblas\.so/.test(file))) {
    notes.push(
      "PyTorch here multiplies matrices with Debian's reference BLAS (package libblas3, " +
        'BLAS_INFO=generic), an untuned implementation, so the PyTorch column understates ' +
        'PyTorch linked to OpenBLAS or MKL.',
    );
  }
  for (const c of results.cases) {
    if (c.dataSubstituted) notes.push(`${c.name}: ${c.data}.`);
  }
  return notes;
}

function updateBenchmarksMd(markdown) {
  if (!fs.existsSync(BENCHMARKS_MD)) return false;
  const text = fs.readFileSync(BENCHMARKS_MD, 'utf8');
  const start = text.indexOf(MARKER_START);
  const end = text.indexOf(MARKER_END);
  if (start < 0 || end < start) return false;
  const updated = `${text.slice(0, start + MARKER_START.length)}\n${markdown}${text.slice(end)}`;
  fs.writeFileSync(BENCHMARKS_MD, updated);
  return true;
}

function writeResults(results, args) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const markdown = renderMarkdown(results);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), markdown);
  const chart = renderChart(results);
  if (chart) fs.writeFileSync(path.join(RESULTS_DIR, 'throughput.svg'), chart);
  if (!args.quick && args.cases.length === 0 && updateBenchmarksMd(markdown)) {
    log('updated the results section of BENCHMARKS.md');
  }
  return markdown;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = process.hrtime.bigint();
  const onecycle = loadOnecycle();
  const mode = args.quick ? 'quick' : 'full';
  const context = { onecycle, threads: args.threads, quick: args.quick, timing: TIMING[mode], log };

  const tfjs = await loadTfjs();
  if (!tfjs.available) log(`skipping TensorFlow.js: ${tfjs.reason}`);
  const torch = findTorch();
  if (!torch.available) log(`skipping PyTorch: ${torch.reason}`);

  const results = {
    generatedAt: new Date().toISOString(),
    mode,
    threads: args.threads,
    timing: TIMING[mode],
    machine: describeMachine(),
    anchors: { tfjs, torch },
    cases: [],
    notes: [],
  };
  const selected = [...TRAINING_CASES, ...CALL_CASES].filter(
    (c) => args.cases.length === 0 || args.cases.includes(c.name),
  );
  for (const definition of selected) {
    results.cases.push(await runCase(definition, context, results));
  }
  results.notes = collectNotes(results);
  results.elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  results.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));

  process.stdout.write(writeResults(results, args));
  log(
    `finished in ${results.elapsedSeconds.toFixed(0)} s; results in ${path.relative(ROOT, RESULTS_DIR)}/`,
  );
  return results.cases.some((c) => c.error) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    log(`bench/run.js: ${error.message}`);
    process.exitCode = 2;
  },
);
