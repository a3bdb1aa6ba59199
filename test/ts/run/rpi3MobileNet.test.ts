// torchvision's MobileNetV2 (seeded) on the rpi3 target, fp32 and int8: built into
// kernel8.img, booted in qemu-system-aarch64 -M raspi3b, its 224x224 input sent over the UART
// in a frame, its output compared with PyTorch's. Prints the measured numbers (max abs error,
// top-5, kernel8.img bytes against weights + 128 KiB, wall time).
// NEEDS the Python side (torch, torchvision, kernel-bridge/) and EDGESPEC_LONG_TESTS=1; skipped without them.
// EDGESPEC_TEST_BUNDLES=DIR reuses a capture in DIR/mobilenet_v2 (capturing it there if missing).
import execa from 'execa';
import { existsSync, promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { createReporter } from '../../../src/toolchain/events';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { repoFiles } from '../../../src/toolchain/paths';
import { locatePython, pythonEnv } from '../../../src/toolchain/tools/locate';

jest.setTimeout(1_800_000);

const OVERHEAD_BUDGET = 128 * 1024;
const python = locatePython().path;
const pythonSide = Boolean(python) && existsSync(path.join(repoFiles.kernelBridgeDir, 'edgespec', '__main__.py'));
// About 5 minutes (a 602 KB input over QEMU's UART, twice): a long test, run with EDGESPEC_LONG_TESTS=1;
// CI keeps rpi3Target.test.ts (a small model: agreement, int8, a fault) and rpi3Stream.test.ts.
const withCapture = pythonSide && process.env.EDGESPEC_LONG_TESTS === '1' ? describe : describe.skip;
const quiet = createReporter(true, () => undefined, () => undefined);

withCapture('MobileNetV2 on rpi3 (needs the Python capture)', () => {
  let bundlesDir = process.env.EDGESPEC_TEST_BUNDLES ?? '';
  let ownBundles = false;
  let bundle: string;

  beforeAll(async () => {
    if (!bundlesDir) {
      bundlesDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-rpi3-mnv2-'));
      ownBundles = true;
    }
    bundle = path.join(bundlesDir, 'mobilenet_v2');
    if (existsSync(path.join(bundle, 'graph.json'))) return;
    const run = await execa(python!, ['-m', 'edgespec', 'capture', 'torchvision:mobilenet_v2', '--input-shape', '1x3x224x224', '--seed', '0', '--out', bundle], { env: pythonEnv(), reject: false, all: true });
    if (run.exitCode !== 0) throw new Error(`capture of mobilenet_v2 failed:\n${run.all}`);
  });

  afterAll(async () => {
    if (ownBundles) await fs.rm(bundlesDir, { recursive: true, force: true });
  });

  for (const dtype of ['float32', 'int8'] as const) {
    test(`${dtype}: kernel8.img within weights + 128 KiB, and it agrees with PyTorch under raspi3b`, async () => {
      const outDir = path.join(bundlesDir, `mobilenet_v2-rpi3-${dtype}`);
      const built = await buildBundle({ bundleDir: bundle, target: 'rpi3', outDir, dtype });
      const kernel8 = (await fs.stat(path.join(outDir, 'kernel8.img'))).size;
      const weights = built.footprint.totals.weights_bytes.value;
      expect(built.footprint.totals.image_bytes.value).toBe(kernel8);
      expect(kernel8 - weights).toBeLessThanOrEqual(OVERHEAD_BUDGET);

      const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
      if (!report.agreement) throw new Error(`mobilenet_v2 rpi3 ${dtype} did not answer: ${report.status}: ${report.error}\n${report.console}`);
      const a = report.agreement;
      console.log(`mobilenet_v2 rpi3 ${dtype}: status ${report.status}, max abs error ${a.max_abs_error.toExponential(2)} (tolerance ${a.tolerance.toExponential(2)}, max |ref| ${a.max_abs_reference.toFixed(3)}), ` +
        `top-1 ${a.top1_match}, top-5 ${a.top5_match}, kernel8.img ${kernel8} bytes = weights ${weights} + ${kernel8 - weights}, ` +
        `wall ${(report.wall_ms.value / 1000).toFixed(2)} s (boot; the input over the UART, inference, output)`);
      expect(report.status).toBe('ok');
      if (dtype === 'float32') {
        expect(a.max_abs_error).toBeLessThanOrEqual(a.tolerance);
        expect(a.top5).toEqual(a.reference_top5);
      } else {
        expect(a.top1_match).toBe(true);
      }
    });
  }
});
