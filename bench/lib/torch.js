'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { rowsPerCall } = require('./cases');
const { summarize } = require('./stats');
const { TOLERANCE, sliceRows, trainingResult } = require('./onecycle');

const SCRIPT = path.join(__dirname, '..', 'torch_bench.py');
/** Temporary exchange files; `bench/results/*.tmp` is git-ignored. */
const TEMP_DIR = path.join(__dirname, '..', 'results');
/** Upper bound on one PyTorch child process, in milliseconds. */
const CHILD_TIMEOUT_MS = 300_000;

/**
 * Finds a Python interpreter that imports torch: `ONECYCLE_PYTHON`, then
 * `python3` on PATH, then `/usr/bin/python3`. Returns
 * `{ available, python?, torch?, reason? }`.
 */
function findTorch() {
  const candidates = [process.env.ONECYCLE_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (probe.status === 0) {
      return { available: true, python, torch: probe.stdout.trim() };
    }
  }
  return {
    available: false,
    reason: `no Python with torch among ${candidates.join(', ')}; set ONECYCLE_PYTHON to one`,
  };
}

function writeTemp(name, array) {
  const file = path.join(TEMP_DIR, `${name}.tmp`);
  fs.writeFileSync(file, Buffer.from(array.buffer, array.byteOffset, array.byteLength));
  return file;
}

function concatWeights(weights) {
  const total = weights.reduce((sum, layer) => sum + layer.weight.length + layer.bias.length, 0);
  const flat = new Float32Array(total);
  let offset = 0;
  for (const layer of weights) {
    flat.set(layer.weight, offset);
    offset += layer.weight.length;
    flat.set(layer.bias, offset);
    offset += layer.bias.length;
  }
  return flat;
}

/** Writes a case's data, initial weights and expected predictions for
 * torch_bench.py, and returns the spec entry plus the files to remove. */
function writeCaseSpec(trainingCase, data, reference, rows) {
  const { layers } = trainingCase;
  const outputs = layers[layers.length - 1];
  const subset = sliceRows(data, layers, rows);
  const prefix = `torch-${trainingCase.name}-${process.pid}`;
  const probeRows = reference.probe.length / layers[0];
  const files = {
    x: writeTemp(`${prefix}-x`, subset.x),
    y: writeTemp(`${prefix}-y`, subset.y),
    weights: writeTemp(`${prefix}-weights`, concatWeights(reference.weights)),
    probe: writeTemp(`${prefix}-probe`, reference.probe),
  };
  const entry = {
    name: trainingCase.name,
    layers,
    batchSize: trainingCase.batchSize,
    loss: trainingCase.loss,
    maxLr: trainingCase.maxLr,
    tolerance: TOLERANCE,
    x: { path: files.x, shape: [rows, layers[0]] },
    y: {
      path: files.y,
      shape: trainingCase.loss === 'cross_entropy' ? [rows] : [rows, outputs],
    },
    weights: {
      path: files.weights,
      shapes: reference.weights.flatMap((layer) => [layer.shape, [layer.shape[0]]]),
    },
    probe: { path: files.probe, shape: [probeRows, layers[0]] },
    expected: Array.from(reference.predictions),
  };
  return { entry, files: Object.values(files) };
}

/**
 * Checks and times PyTorch on a training case in a child process. Resolves
 * to `{ result, info }`: the engine result (or `{ error }`) and what the
 * child reported about torch.
 */
function benchTorch(trainingCase, data, reference, torch, options) {
  const rows = rowsPerCall(trainingCase, 'torch', data.rows, options.quick);
  const { entry, files } = writeCaseSpec(trainingCase, data, reference, rows);
  const specFile = path.join(TEMP_DIR, `torch-spec-${process.pid}.tmp`);
  fs.writeFileSync(
    specFile,
    JSON.stringify({ threads: options.threads, timing: options.timing, cases: [entry] }),
  );
  try {
    // torch.set_num_threads covers PyTorch's own pool; the BLAS library it
    // calls (OpenBLAS when installed) reads these variables instead.
    const threads = String(options.threads);
    const child = spawnSync(torch.python, [SCRIPT, specFile], {
      env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads },
      encoding: 'utf8',
      timeout: CHILD_TIMEOUT_MS,
      maxBuffer: 16 * 2 ** 20,
    });
    if (child.status !== 0) {
      const reason = child.error ? child.error.message : child.stderr.trim().split('\n').pop();
      return { result: { error: `torch_bench.py failed: ${reason}` }, info: null };
    }
    const output = JSON.parse(child.stdout);
    const [run] = output.cases;
    delete output.cases;
    if (run.error) return { result: { error: run.error }, info: output };
    const stats = summarize(run.sample);
    const result = trainingResult(trainingCase, rows, stats, {
      finalLoss: run.finalLoss,
      check: { ok: true, tolerance: TOLERANCE, maxRelativeError: run.maxRelativeError },
    });
    return { result, info: output };
  } finally {
    for (const file of [...files, specFile]) fs.rmSync(file, { force: true });
  }
}

module.exports = { findTorch, benchTorch };
