// Runs inside Debian's arm64 Node.js under qemu-aarch64 (src/toolchain/bench/arm64Peer.ts):
//   node ort_peer.js ORT_PACKAGE_DIR MODEL.onnx INPUTS.json RUNS WARMUP
// INPUTS.json: [{dtype, shape, file}] with raw little-endian tensor bytes in each file.
// Prints one JSON line: {version, times_ms, first} (the first output's first values).
'use strict';
const fs = require('fs');
const [ortDir, modelFile, inputsFile, runsText, warmupText] = process.argv.slice(2);
const ort = require(ortDir);
const ARRAYS = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };

async function main() {
  const session = await ort.InferenceSession.create(modelFile, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all'
  });
  const inputs = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    const bytes = fs.readFileSync(inputs[i].file);
    const data = new ARRAYS[inputs[i].dtype](bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    feeds[name] = new ort.Tensor(inputs[i].dtype, data, inputs[i].shape);
  });
  let last;
  for (let i = 0; i < Number(warmupText); i++) last = await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runsText); i++) {
    const start = process.hrtime.bigint();
    last = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const out = last[session.outputNames[0]].data;
  console.log(JSON.stringify({ version: ort.env.versions.common, times_ms: times, output: Array.from(out) }));
}
main().catch(e => {
  console.error(`ort_peer: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
