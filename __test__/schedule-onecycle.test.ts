import { describe, expect, it } from 'vitest';
import { OneCycleLR } from '../ts/index';
import { BACKENDS, loadGolden, relativeError, scheduleOptions } from './golden';

/** PyTorch computes each value with the same f64 operations in the same
 * order, so only libm's cos may differ, by an ulp or two. */
const TOLERANCE = 1e-12;

const golden = loadGolden('torch_onecycle.json');
type Config = (typeof golden.configs)[number];

/** Returns the momentum-like field PyTorch cycled (`momentum` or Adam's
 * `beta1`), or null when the schedule does not cycle momentum. */
function momentumField(config: Config): string | null {
  if (config.scheduler_kwargs.cycle_momentum === false) return null;
  return 'momentum' in config.sequence ? 'momentum' : 'beta1';
}

function expectClose(actual: number, expected: number, where: string): void {
  if (!(relativeError(actual, expected) <= TOLERANCE)) {
    expect.fail(`${where}: got ${actual}, expected ${expected}`);
  }
}

/** Compares the schedule, stepping from its current index, with
 * `sequence[field][group][i]` for each listed index. */
function compareSequence(
  schedule: OneCycleLR,
  sequence: Record<string, number[][]>,
  field: string | null,
  count: number,
  label: string,
): void {
  for (let i = 0; i < count; i++) {
    if (i > 0) schedule.step();
    schedule.getLastLr().forEach((lr, g) => expectClose(lr, sequence.lr[g][i], `${label} lr[${g}][${i}]`));
    if (field) {
      schedule
        .getLastMomentum()!
        .forEach((m, g) => expectClose(m, sequence[field][g][i], `${label} ${field}[${g}][${i}]`));
    } else {
      expect(schedule.getLastMomentum()).toBeNull();
    }
  }
}

function expectHeldThenRejected(schedule: OneCycleLR): void {
  const total = schedule.totalSteps;
  while (schedule.lastEpoch < total - 1) schedule.step();
  const finalLr = schedule.getLastLr();
  const finalMomentum = schedule.getLastMomentum();
  schedule.step();
  expect(schedule.lastEpoch).toBe(total);
  expect(schedule.getLastLr()).toEqual(finalLr);
  expect(schedule.getLastMomentum()).toEqual(finalMomentum);
  expect(() => schedule.step()).toThrow(new RegExp(`called ${total + 1} times.*${total} steps`));
  expect(schedule.lastEpoch).toBe(total);
  expect(schedule.getLastLr()).toEqual(finalLr);
}

const constructed = golden.configs.filter((c: Config) => !c.resume && c.construct.ok);
const degenerate = golden.configs.filter(
  (c: Config) =>
    !c.resume &&
    !c.construct.ok &&
    c.construct.type === 'ZeroDivisionError' &&
    c.scheduler_kwargs.final_div_factor !== 0,
);
const rejected = golden.configs.filter(
  (c: Config) => !c.resume && !c.construct.ok && c.construct.type !== 'ZeroDivisionError',
);

describe.each(BACKENDS)('OneCycleLR on the %s engine', (backend) => {
  it.each(constructed.map((c: Config) => [c.id, c]))('matches PyTorch for %s', (id, config) => {
    const kwargs = config.scheduler_kwargs;
    if (typeof kwargs.total_steps === 'boolean') {
      // PyTorch takes True for 1; a boolean here is a caller's mistake.
      expect(() => new OneCycleLR({ ...scheduleOptions(config), backend })).toThrow(/totalSteps/);
      return;
    }
    const schedule = new OneCycleLR({ ...scheduleOptions(config), backend });
    expect(schedule.totalSteps).toBe(config.derived.total_steps);
    // PyTorch fails part-way through some schedules; compare what it computed.
    const computed = Math.min(config.sequence.lr[0].length, config.derived.total_steps);
    compareSequence(schedule, config.sequence, momentumField(config), computed, id);
    expectHeldThenRejected(schedule);
  });

  it.each(degenerate.map((c: Config) => [c.id, c]))(
    'gives defined values where PyTorch divides by zero: %s',
    (_id, config) => {
      const schedule = new OneCycleLR({ ...scheduleOptions(config), backend });
      const { lr } = schedule.getSchedule();
      const bounds = config.scheduler_kwargs.max_lr as number;
      for (const value of lr[0]) {
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeGreaterThan(0);
        expect(value).toBeLessThanOrEqual(bounds);
      }
      expectHeldThenRejected(schedule);
    },
  );

  it('rejects finalDivFactor 0, where PyTorch divides by zero', () => {
    const config = golden.configs.find((c: Config) => c.id === 'n10_finaldiv0');
    expect(() => new OneCycleLR({ ...scheduleOptions(config), backend })).toThrow(/finalDivFactor.*0/);
  });

  it.each(rejected.map((c: Config) => [c.id, c]))('rejects what PyTorch rejects: %s', (id, config) => {
    const kwargs = scheduleOptions(config);
    if (id === 'total_float' || id === 'n10_pct_int0') {
      // JavaScript has one number type: 10.0 is the integer 10 and 0 is 0.0.
      expect(new OneCycleLR({ ...kwargs, backend }).totalSteps).toBe(10);
      return;
    }
    const named: Record<string, RegExp> = {
      n10_pct1_5: /pctStart/,
      epochs_only: /stepsPerEpoch/,
      anneal_typo: /annealStrategy.*cosine/,
      n10_2groups_mom_len1: /2 values for baseMomentum.*1/,
    };
    const pattern = named[id.replace('.', '_')] ?? /pctStart|totalSteps|stepsPerEpoch|annealStrategy|Momentum/;
    expect(() => new OneCycleLR({ ...kwargs, backend })).toThrow(pattern);
  });

  it.each(golden.configs.filter((c: Config) => c.resume).map((c: Config) => [c.id, c]))(
    'resumes like PyTorch: %s',
    (id, config) => {
      const { mode, split_after_steps: k } = config.resume;
      let resumed: OneCycleLR;
      if (mode === 'state_dict') {
        const first = new OneCycleLR({ ...scheduleOptions(config), backend });
        for (let i = 0; i < k; i++) first.step();
        resumed = OneCycleLR.fromState(first.state(), backend);
      } else {
        const lastEpoch = mode === 'last_epoch_k' ? k : k - 1;
        resumed = new OneCycleLR({ ...scheduleOptions(config), lastEpoch, backend });
      }
      const field = momentumField({ ...config, sequence: config.reference_sequence });
      if (config.resumed.construct.ok) {
        const { steps_completed: steps } = config.resumed;
        compareSequence(resumed, config.resumed.sequence, field, steps, id);
      } else {
        // PyTorch needs `initial_lr` in the optimizer; ours resumes from
        // the options and continues the reference run.
        const tail: Record<string, number[][]> = {};
        for (const [name, groups] of Object.entries(config.reference_sequence)) {
          tail[name] = (groups as number[][]).map((g) => g.slice(k));
        }
        compareSequence(resumed, tail, field, tail.lr[0].length - 1, id);
      }
      expectHeldThenRejected(resumed);
    },
  );

  it('completes every cell of the degenerate matrix', () => {
    const matrix = golden.degenerate_matrix;
    for (const row of matrix.rows) {
      for (const pct of matrix.pct_start_values) {
        const schedule = new OneCycleLR({
          maxLr: 1,
          totalSteps: row.total_steps,
          pctStart: pct,
          threePhase: row.three_phase,
          backend,
        });
        for (let t = 0; t < row.total_steps; t++) {
          const [lr] = schedule.getLastLr();
          const [momentum] = schedule.getLastMomentum()!;
          const where = `total ${row.total_steps}, pctStart ${pct}, threePhase ${row.three_phase}, index ${t}`;
          if (!(lr > 0 && lr <= 1)) expect.fail(`${where}: lr ${lr}`);
          if (!(momentum >= 0.85 && momentum <= 0.95)) expect.fail(`${where}: momentum ${momentum}`);
          schedule.step();
        }
      }
    }
  });

  it('names the option, value and range in validation errors', () => {
    expect(() => new OneCycleLR({ maxLr: 0.1, totalSteps: 10, pctStart: 1.5, backend })).toThrow(
      /pctStart.*\[0, 1\].*1\.5/,
    );
    expect(() => new OneCycleLR({ maxLr: -1, totalSteps: 10, backend })).toThrow(/maxLr.*-1/);
    expect(() => new OneCycleLR({ maxLr: 0.1, totalSteps: 0, backend })).toThrow(/totalSteps.*0/);
    expect(() => new OneCycleLR({ maxLr: NaN, totalSteps: 10, backend })).toThrow(/maxLr.*NaN/);
    expect(() => new OneCycleLR({ maxLr: 0.1, backend })).toThrow(/totalSteps.*epochs.*stepsPerEpoch/);
  });

  it('returns the whole schedule for previews', () => {
    const schedule = new OneCycleLR({ maxLr: 1, totalSteps: 10, backend });
    const { lr, momentum } = schedule.getSchedule();
    expect(lr).toHaveLength(1);
    expect(lr[0]).toBeInstanceOf(Float64Array);
    expect(lr[0]).toHaveLength(10);
    expect(momentum![0]).toHaveLength(10);
    for (let t = 0; t < 10; t++) {
      expect(lr[0][t]).toBe(schedule.getLastLr()[0]);
      schedule.step();
    }
  });
});
