'use strict';

const { BenchRng } = require('./rng');
const { maxRelativeError } = require('./stats');
const { timeFunction } = require('./timing');
const { MismatchError, TOLERANCE, MODEL_SEED, ONECYCLE_ENGINES } = require('./onecycle');

/** Accumulates benchmarked results so the JIT compiler cannot drop the calls. */
let sink = 0;

function checkClose(actual, expected, description) {
  const error = maxRelativeError(actual, expected);
  if (!(error <= TOLERANCE)) {
    throw new MismatchError(
      `${description}: native and js differ by ${error.toExponential(3)} relative ` +
        `(tolerance ${TOLERANCE}).`,
    );
  }
  return error;
}

/** Learning rate after every step of a fresh schedule. */
function scheduleTrace(OneCycleLR, backend, callCase, steps) {
  const schedule = new OneCycleLR({ maxLr: callCase.maxLr, totalSteps: steps, backend });
  const trace = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    schedule.step();
    trace[i] = schedule.getLastLr()[0];
  }
  return trace;
}

async function timeOperation(operation, context) {
  const engines = {};
  for (const engine of ONECYCLE_ENGINES) {
    const stats = await timeFunction(operation.make(engine), context.timing);
    const seconds = stats.median / operation.callsPerOp;
    engines[engine] = {
      stats,
      nsPerCall: seconds * 1e9,
      callsPerSecond: 1 / seconds,
    };
    context.log(`  ${operation.name}, ${engine}: ${engines[engine].nsPerCall.toFixed(1)} ns/call`);
  }
  return {
    name: operation.name,
    callsPerOp: operation.callsPerOp,
    engines,
    nativeOverJs: engines.js.nsPerCall / engines.native.nsPerCall,
  };
}

/**
 * Case `schedule-1e6-steps`: one timed operation builds a schedule of
 * `steps` steps and calls step() and getLastLr() on it `steps` times.
 */
async function benchSchedule(callCase, context) {
  const { OneCycleLR } = context.onecycle;
  const steps = context.quick ? 1e5 : callCase.totalSteps;
  const error = checkClose(
    scheduleTrace(OneCycleLR, 'js', callCase, steps),
    scheduleTrace(OneCycleLR, 'native', callCase, steps),
    `${callCase.name}, learning rate over ${steps} steps`,
  );
  const operation = {
    name: `${steps} × (step + getLastLr)`,
    callsPerOp: steps,
    make: (backend) => () => {
      const schedule = new OneCycleLR({ maxLr: callCase.maxLr, totalSteps: steps, backend });
      for (let i = 0; i < steps; i++) {
        schedule.step();
        sink += schedule.getLastLr()[0];
      }
    },
  };
  return {
    check: { ok: true, tolerance: TOLERANCE, steps, maxRelativeError: error },
    operations: [await timeOperation(operation, context)],
  };
}

/**
 * Case `napi-crossing`: the cost of single calls, the unit of a training
 * loop driven from JavaScript one batch at a time.
 */
async function benchCrossing(callCase, context) {
  const { Mlp, OneCycleLR } = context.onecycle;
  const rng = new BenchRng(4);
  const row = new Float32Array(callCase.layers[0]);
  for (let i = 0; i < row.length; i++) row[i] = rng.next();
  const models = {};
  for (const backend of ONECYCLE_ENGINES) {
    models[backend] = new Mlp({
      layers: callCase.layers,
      seed: MODEL_SEED,
      threads: context.threads,
      backend,
    });
  }
  const error = checkClose(
    models.js.predict(row),
    models.native.predict(row),
    `${callCase.name}, single-row predict`,
  );

  // A schedule allows totalSteps calls to step(), so a fresh one replaces
  // it after each cycle; the constructor runs once per million calls.
  const cycle = 1e6;
  const step = {
    name: 'OneCycleLR.step()',
    callsPerOp: 1,
    make: (backend) => {
      let schedule = new OneCycleLR({ maxLr: 0.1, totalSteps: cycle, backend });
      let calls = 0;
      return () => {
        schedule.step();
        if (++calls === cycle) {
          schedule = new OneCycleLR({ maxLr: 0.1, totalSteps: cycle, backend });
          calls = 0;
        }
      };
    },
  };
  const predict = {
    name: `predict, 1 row, ${callCase.layers.join('-')}`,
    callsPerOp: 1,
    make: (backend) => () => {
      sink += models[backend].predict(row)[0];
    },
  };
  return {
    check: { ok: true, tolerance: TOLERANCE, rows: 1, maxRelativeError: error },
    operations: [await timeOperation(step, context), await timeOperation(predict, context)],
  };
}

module.exports = { benchSchedule, benchCrossing };
