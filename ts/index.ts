export { Mlp } from './mlp';
export { OneCycleLR } from './schedule';
export { nativeAvailable } from './native';
export { loadMnist, MnistMissingError } from './data/mnist';
export type { MnistOptions, MnistSplit } from './data/mnist';
export { loadCsv, parseCsv, splitTable, CsvError } from './data/csv';
export type { CsvOptions, Scale, TabularSplit, Task } from './data/csv';
export type * from './types';
