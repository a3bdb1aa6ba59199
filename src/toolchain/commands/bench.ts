import { InvalidArgumentError } from 'commander';
import { readFileSync } from 'fs';
import * as path from 'path';
import { DEFAULT_INT8_MODELS, DEFAULT_MODELS, ISSUE_MODELS } from '../bench/benchPlan';
import { BENCH_DTYPES, BenchDtype } from '../bench/benchTypes';
import { runBench } from '../bench/runBench';
import { isTinyModel, runTinyBench, TINY_DEFAULTS } from '../bench/tinyBench';
import { runBoardsBench } from '../bench/boardsBench';
import { TINY_MODELS, TinyModel } from '../bench/tinyTypes';
import { EdgespecError } from '../errors';
import { repoPath } from '../paths';
import type { RegisterCommand } from './context';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('give a whole number of at least 1');
  return n;
}

function modelList(value: string): string[] {
  const models = value.split(',').map(m => m.trim()).filter(Boolean);
  const bad = models.filter(m => !/^[a-z0-9_]+$/.test(m));
  if (models.length === 0 || bad.length > 0) throw new InvalidArgumentError(`give torchvision model names separated by commas, e.g. ${DEFAULT_MODELS.slice(0, 2).join(',')}`);
  return models;
}

function dtypeList(value: string): BenchDtype[] {
  const dtypes = [...new Set(value.split(',').map(d => d.trim()).filter(Boolean))];
  const bad = dtypes.filter(d => !(BENCH_DTYPES as readonly string[]).includes(d));
  if (dtypes.length === 0 || bad.length > 0) throw new InvalidArgumentError(`${bad.length > 0 ? `${bad.join(', ')} is not a dtype the bench builds; ` : ''}give ${BENCH_DTYPES.join(' and/or ')} separated by a comma, e.g. float32,int8`);
  return dtypes as BenchDtype[];
}

const SECTIONS = ['torchvision', 'tiny', 'boards'] as const;
type Section = (typeof SECTIONS)[number];

function sectionList(value: string): Section[] {
  const asked = value === 'all' ? [...SECTIONS] : [...new Set(value.split(',').map(s => s.trim()).filter(Boolean))];
  const bad = asked.filter(s => !(SECTIONS as readonly string[]).includes(s));
  if (asked.length === 0 || bad.length > 0) throw new InvalidArgumentError(`give ${SECTIONS.join(' and/or ')} separated by a comma, or all`);
  return asked as Section[];
}

function tinyModelList(value: string): TinyModel[] {
  const models = value.split(',').map(m => m.trim()).filter(Boolean);
  const bad = models.filter(m => !isTinyModel(m));
  if (models.length === 0 || bad.length > 0) throw new InvalidArgumentError(`give tiny models among ${TINY_MODELS.join(',')}`);
  return models as TinyModel[];
}

const SUBSET_HELP = `
A subset (the whole bench takes hours on a small machine; bundles, builds and exports are cached in --cache):
  one torchvision row, host against onnxruntime only, 2 rounds of 5 runs (a minute or two once its bundle is cached):
    npm run bench -- --models mobilenet_v2 --dtypes int8 --no-torch --no-arm64 --no-portable --rounds 2 --runs 5
  add the qemu-aarch64 columns: drop --no-arm64 (onnxruntime's arm64 build under emulation: minutes per round)
  one tiny model, host only:
    npm run bench -- --tiny --tiny-models autoencoder --dtypes int8 --no-arm64 --no-tflm
  bench.md / tiny.md go to --out (default bench-results/); a subset run overwrites them.`;

/** `edgespec bench` (also `npm run bench`): the benchmark table of DESIGN.md "Numbers". */
export const registerBench: RegisterCommand = (program, ctx) => {
  program
    .command('bench')
    .description('capture, build (qemu-virt, host and linux; float32 and int8) and run torchvision models; time them against onnxruntime and PyTorch on one thread, natively and under qemu-aarch64; count guest instructions with and without the NEON kernels; write bench.md and bench.json')
    .option('--models <names>', `comma-separated torchvision models (default: ${DEFAULT_MODELS.join(',')})`, modelList)
    .option('--dtypes <list>', `build and time every model in each of these (float32,int8); default: float32 for every model, int8 too for ${DEFAULT_INT8_MODELS.join(' and ')}`, dtypeList)
    .option('--out <dir>', 'where bench.md and bench.json go', repoPath('bench-results'))
    .option('--cache <dir>', 'bundles, builds and ONNX exports, reused between runs (delete to capture again)', repoPath('bench-results', 'cache'))
    .option('--rounds <n>', 'interleaved timing rounds of the torchvision section (host, onnxruntime, PyTorch, host, ...; under qemu-aarch64 linux, onnxruntime arm64, ...): each cell is the median over rounds, each ratio the median of the per-round ratios', positiveInteger, 3)
    .option('--runs <n>', 'timed runs of each peer and of the host executable per round (under qemu-aarch64 at most 3)', positiveInteger, 20)
    .option('--warmup <n>', 'untimed runs before timing, per round', positiveInteger, 3)
    .option('--no-onnxruntime', 'leave out the onnxruntime peer')
    .option('--no-arm64', 'leave out the linux target against onnxruntime arm64, both under qemu-aarch64')
    .option('--no-torch', 'leave out the PyTorch column (its script still exports the ONNX model for onnxruntime)')
    .option('--portable-models <names>', `models whose qemu-virt image is also built with --kernel-variant portable (no hand-written NEON) for the guest instructions before NEON (default: ${ISSUE_MODELS.join(',')})`, modelList)
    .option('--no-portable', 'leave out the portable-kernel runs')
    .option('--stream <n>', 'also stream N copies of the reference input through one qemu-virt boot (serve mode) and boot it N times, to compare the wall times', positiveInteger)
    .option('--section <list>', `which sections: torchvision (default: the models above against onnxruntime and PyTorch), tiny (the MLPerf Tiny architectures against LiteRT and TensorFlow Lite Micro; tiny.md and tiny.json), boards (MobileNetV2, or --models, built for rpi3, efi and linux-vm: the bytes each board loads; boards.md and boards.json), or all`, sectionList, ['torchvision'])
    .option('--tiny', 'the tiny section only (the same as --section tiny)')
    .option('--tiny-models <names>', `tiny models (default: ${TINY_MODELS.join(',')})`, tinyModelList)
    .option('--tiny-rounds <n>', 'interleaved timing rounds of the tiny section, on the host and under qemu-aarch64', positiveInteger, TINY_DEFAULTS.rounds)
    .option('--tiny-runs <n>', 'invokes per side and round on the host in the tiny section', positiveInteger, TINY_DEFAULTS.hostRuns)
    .option('--no-tflm', 'leave out the TensorFlow Lite Micro columns of the tiny section')
    .option('--json', 'print JSON-line events')
    .addHelpText('after', SUBSET_HELP)
    .action(async (opts: { section: Section[]; tiny?: boolean; tinyModels?: TinyModel[]; tinyRounds: number; tinyRuns: number; tflm: boolean; models?: string[]; dtypes?: BenchDtype[]; out: string; cache: string; rounds: number; runs: number; warmup: number; onnxruntime: boolean; torch: boolean; arm64: boolean; portable: boolean; portableModels?: string[]; stream?: number; json?: boolean }) => {
      const reporter = ctx.reporter(opts);
      const sections: Section[] = opts.tiny ? ['tiny'] : opts.section;
      if (sections.includes('boards')) {
        const boards = await runBoardsBench({ models: opts.models ?? ['mobilenet_v2'], dtypes: opts.dtypes ?? ['int8', 'float32'], cacheDir: path.resolve(opts.cache), outDir: path.resolve(opts.out), reporter });
        reporter.result('bench-boards', { ...boards.report, files: { markdown: boards.markdownFile, json: boards.jsonFile } }, () =>
          `wrote ${boards.markdownFile} and ${boards.jsonFile}\n\n${readFileSync(boards.markdownFile, 'utf8')}`
        );
        const failed = boards.report.rows.filter(r => r.error);
        if (sections.length === 1) {
          if (failed.length > 0) throw new EdgespecError('bench-problems', `${failed.length} of ${boards.report.rows.length} board builds failed: ${failed.map(r => `${r.model} ${r.dtype} ${r.target}`).join(', ')}`, `see ${boards.markdownFile}`);
          return;
        }
      }
      if (sections.includes('tiny')) {
        const tiny = await runTinyBench({
          models: opts.tinyModels ?? [...TINY_MODELS],
          dtypes: opts.dtypes ?? ['float32', 'int8'],
          cacheDir: path.resolve(opts.cache),
          outDir: path.resolve(opts.out),
          rounds: opts.tinyRounds,
          hostRuns: opts.tinyRuns,
          hostWarmup: TINY_DEFAULTS.hostWarmup,
          arm64: opts.arm64,
          emulatedRounds: opts.tinyRounds,
          emulatedRuns: TINY_DEFAULTS.emulatedRuns,
          emulatedWarmup: TINY_DEFAULTS.emulatedWarmup,
          tflm: opts.tflm,
          tflmRuns: TINY_DEFAULTS.tflmRuns,
          reporter
        });
        reporter.result('bench-tiny', { ...tiny.report, files: { markdown: tiny.markdownFile, json: tiny.jsonFile } }, () =>
          `wrote ${tiny.markdownFile} and ${tiny.jsonFile}\n\n${readFileSync(tiny.markdownFile, 'utf8')}`
        );
        const bad = tiny.report.rows.filter(r => !r.agrees || r.errors.length > 0);
        if (!sections.includes('torchvision')) {
          if (bad.length > 0) throw new EdgespecError('bench-problems', `${bad.length} of ${tiny.report.rows.length} tiny rows had problems: ${bad.map(r => `${r.model} ${r.dtype}`).join(', ')}`, `see the Problems section of ${tiny.markdownFile}`);
          return;
        }
      }
      const outcome = await runBench({
        models: opts.models ?? DEFAULT_MODELS,
        dtypes: opts.dtypes,
        outDir: path.resolve(opts.out),
        cacheDir: path.resolve(opts.cache),
        rounds: opts.rounds,
        runs: opts.runs,
        warmup: opts.warmup,
        onnxruntime: opts.onnxruntime,
        torch: opts.torch,
        arm64: opts.arm64,
        portableModels: opts.portable ? opts.portableModels ?? ISSUE_MODELS : [],
        ...(opts.stream ? { streamInputs: opts.stream } : {}),
        reporter
      });
      reporter.result('bench', { ...outcome.report, files: { markdown: outcome.markdownFile, json: outcome.jsonFile } }, () =>
        `wrote ${outcome.markdownFile} and ${outcome.jsonFile}\n\n${readFileSync(outcome.markdownFile, 'utf8')}`
      );
      const failed = outcome.report.models.filter(m => !m.agrees || m.errors.length > 0);
      if (failed.length > 0) {
        throw new EdgespecError('bench-problems', `${failed.length} of ${outcome.report.models.length} rows had problems: ${failed.map(m => `${m.model} ${m.dtype ?? 'float32'}`).join(', ')}`, `see the Problems section of ${outcome.markdownFile}`);
      }
    });
};
