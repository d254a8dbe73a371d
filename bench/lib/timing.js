'use strict';

const Benchmark = require('benchmark');
const { fromBenchmarkStats } = require('./stats');

/**
 * Times `fn` with benchmark.js and resolves to its statistics in seconds per
 * call. `fn` returns a promise for asynchronous work (such as `Mlp.fit`),
 * which runs as a deferred benchmark. Rejects with the first error that
 * `fn` throws or rejects with.
 */
function timeFunction(fn, { minSamples, maxTime, async = false }) {
  return new Promise((resolve, reject) => {
    let failure = null;
    const options = {
      minSamples,
      maxTime,
      onComplete() {
        const error = failure ?? bench.error;
        if (error) reject(error);
        else resolve(fromBenchmarkStats(bench.stats));
      },
    };
    if (async) {
      options.defer = true;
      options.fn = (deferred) => {
        if (failure) {
          deferred.resolve();
          return;
        }
        fn().then(
          () => deferred.resolve(),
          (error) => {
            failure = error;
            deferred.resolve();
          },
        );
      };
    } else {
      options.fn = fn;
    }
    const bench = new Benchmark(options);
    bench.run({ async: true });
  });
}

module.exports = { timeFunction };
