#!/usr/bin/env node
// Writes the CLI's default MNIST split (seed from argv, default 0) to a
// binary file for torch_mnist.py: 8,000 x 784 float32 training pixels,
// 8,000 int32 labels, then the 2,000 test pixels and labels.
const { writeFileSync } = require('node:fs');
const { loadMnist } = require('../dist/index.js');

const seed = Number(process.argv[2] ?? 0);
const out = process.argv[3] ?? `mnist-split-${seed}.bin`;
const split = loadMnist({ seed });
const parts = [split.xTrain, split.yTrain, split.xTest, split.yTest];
writeFileSync(out, Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
console.log(`wrote ${out}: ${split.trainRows} train, ${split.testRows} test`);
