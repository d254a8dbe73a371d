'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');

/** First line of a command's stdout, or null when it fails to run. */
function commandOutput(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: ROOT });
  if (result.status !== 0 || !result.stdout) return null;
  return result.stdout.trim().split('\n')[0];
}

/**
 * Reads the clock (MHz, as the kernel reports it) and the SIMD extensions
 * that matter to GEMM kernels from /proc/cpuinfo. Linux only: elsewhere
 * both are empty.
 */
function readCpuinfo() {
  let cpuinfo;
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return { mhz: null, simd: [] };
  }
  const lines = cpuinfo.split('\n');
  const field = (name) => {
    const line = lines.find((candidate) => candidate.startsWith(name));
    return line ? line.split(':')[1].trim() : '';
  };
  const flags = new Set(field('flags').split(/\s+/));
  return {
    mhz: Math.round(Number(field('cpu MHz'))) || null,
    simd: ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f'].filter((flag) => flags.has(flag)),
  };
}

/** Short commit hash of the work tree, marked when source files differ
 * from it (the benchmark's own results files do not count). */
function commitDescription() {
  const commit = commandOutput('git', ['rev-parse', '--short', 'HEAD']);
  if (!commit) return null;
  const changes = spawnSync(
    'git',
    ['status', '--porcelain', '--', '.', ':!bench/results', ':!BENCHMARKS.md'],
    { encoding: 'utf8', cwd: ROOT },
  );
  const dirty = changes.status === 0 && changes.stdout.trim() !== '';
  return dirty ? `${commit} with uncommitted changes` : commit;
}

function packageVersion(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return null;
  }
}

/** Hardware, operating system and tool versions to print next to every
 * table. */
function describeMachine() {
  const cpus = os.cpus();
  const cpuinfo = readCpuinfo();
  return {
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cpuMHz: cpuinfo.mhz ?? (cpus[0] ? cpus[0].speed : null),
    simd: cpuinfo.simd,
    logicalCores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    node: process.version,
    rustc: commandOutput('rustc', ['-V']),
    onecycle: require(path.join(ROOT, 'package.json')).version,
    commit: commitDescription(),
    benchmarkJs: packageVersion('benchmark'),
    tfjs: packageVersion('@tensorflow/tfjs'),
    tfjsBackendWasm: packageVersion('@tensorflow/tfjs-backend-wasm'),
  };
}

module.exports = { describeMachine, ROOT };
