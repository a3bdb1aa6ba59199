// Runs inside Debian's arm64 Node.js under qemu-aarch64 (src/toolchain/bench/arm64Peer.ts):
//   node ort_peer.js ORT_PACKAGE_DIR MODEL.onnx INPUTS.json
// INPUTS.json: [{dtype, shape, file}] with raw little-endian tensor bytes in each file.
// Speaks the bench's peer protocol (src/toolchain/bench/linePeer.ts): after one run it prints
// {"event": "ready", "version", "output"} (the first output), then answers each stdin line
// `time RUNS WARMUP` with {"event": "times", "times_ms"} until `quit` or the end of stdin.
'use strict';
const fs = require('fs');
const readline = require('readline');
const [ortDir, modelFile, inputsFile] = process.argv.slice(2);
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
  const first = await session.run(feeds);
  const out = first[session.outputNames[0]].data;
  console.log(JSON.stringify({ event: 'ready', version: ort.env.versions.common, output: Array.from(out, Number) }));
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const words = line.trim().split(/\s+/);
    if (words[0] === '' || words[0] === 'quit') break;
    if (words[0] !== 'time' || words.length !== 3) {
      console.log(JSON.stringify({ event: 'error', message: `unknown request ${JSON.stringify(line.trim())}` }));
      continue;
    }
    for (let i = 0; i < Number(words[2]); i++) await session.run(feeds);
    const times = [];
    for (let i = 0; i < Number(words[1]); i++) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    console.log(JSON.stringify({ event: 'times', times_ms: times }));
  }
  if (session.release) await session.release();
}
main().catch(e => {
  console.error(`ort_peer: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
