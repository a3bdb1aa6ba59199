import execa from 'execa';
import { existsSync } from 'fs';
import { EdgespecError } from '../errors';
import { repoFiles, repoPath } from '../paths';
import { findOnPath, locatePython, pythonEnv } from './locate';
import { checkDebianKernel, checkLinuxSource } from '../linuxVm/toolChecks';
import { checkDosfstools, checkEfiFirmware, checkMtools } from '../efi/toolChecks';

import { TOOL_IDS, ToolId, ToolStatus } from './toolStatus';
export { TOOL_IDS };
export type { ToolId, ToolStatus };

export const PICOLIBC_SPECS = '/usr/lib/picolibc/aarch64-linux-gnu/picolibc.specs';
export const TORCH_PINS = 'torch==2.14.1 torchvision==0.29.1';
const MIN_NODE_MAJOR = 20;
const VERSION_TIMEOUT_MS = 15_000;
const TORCH_IMPORT_TIMEOUT_MS = 120_000;

const checks: Record<ToolId, () => Promise<ToolStatus>> = {
  python: checkPython,
  torch: checkTorch,
  'edgespec-python': checkEdgespecPython,
  'aarch64-gcc': () => checkExecutable('aarch64-gcc', 'cross compiler', 'aarch64-linux-gnu-gcc', 'apt-get install -y gcc-aarch64-linux-gnu', out => out.split('\n')[0].match(/(\d+\.\d+(?:\.\d+)?)\s*$/)?.[1]),
  picolibc: checkPicolibc,
  'qemu-system-aarch64': () => checkExecutable('qemu-system-aarch64', 'system emulator', 'qemu-system-aarch64', 'apt-get install -y qemu-system-arm', qemuVersion),
  'qemu-aarch64': () => checkExecutable('qemu-aarch64', 'user-mode emulator', 'qemu-aarch64', 'apt-get install -y qemu-user', qemuVersion),
  node: checkNode,
  'linux-source': checkLinuxSource,
  'debian-arm64-kernel': checkDebianKernel,
  dosfstools: checkDosfstools,
  mtools: checkMtools,
  'efi-firmware': checkEfiFirmware,
  // rpi3's kernel8.img is objcopy -O binary of the image
  'aarch64-objcopy': () => checkExecutable('aarch64-objcopy', 'objcopy for aarch64 (rpi3 kernel8.img)', 'aarch64-linux-gnu-objcopy', 'apt-get install -y binutils-aarch64-linux-gnu', out => out.split('\n')[0].match(/(\d+\.\d+(?:\.\d+)?)\s*$/)?.[1])
};

const pending = new Map<ToolId, Promise<ToolStatus>>();

/** The status of one tool; checked once per process. */
export function findTool(id: ToolId): Promise<ToolStatus> {
  let status = pending.get(id);
  if (!status) {
    status = checks[id]();
    pending.set(id, status);
  }
  return status;
}

export function checkAllTools(): Promise<ToolStatus[]> {
  return Promise.all(TOOL_IDS.map(findTool));
}

/** The tool's path, or an EdgespecError "missing <label> <name>" whose hint is the install command. */
export async function requireTool(id: ToolId): Promise<ToolStatus & { path: string }> {
  const status = await findTool(id);
  if (!status.found || !status.path) throw missingToolError(status);
  return status as ToolStatus & { path: string };
}

export function missingToolError(status: ToolStatus): EdgespecError {
  return new EdgespecError('missing-tool', `missing ${status.label}${status.detail ? ` (${status.detail})` : ''}`, `install with: ${status.install}`, { tool: status.id });
}

async function checkExecutable(id: ToolId, label: string, name: string, install: string, parseVersion: (output: string) => string | undefined): Promise<ToolStatus> {
  const base = { id, label: `${label} ${name}`, required: true, install };
  const file = findOnPath(name);
  if (!file) return { ...base, found: false, detail: 'not on PATH' };
  const run = await execa(file, ['--version'], { reject: false, timeout: VERSION_TIMEOUT_MS });
  if (run.exitCode !== 0) return { ...base, found: false, path: file, detail: `${file} --version failed: ${firstLine(run.stderr || run.stdout)}` };
  return { ...base, found: true, path: file, version: parseVersion(run.stdout) ?? firstLine(run.stdout) };
}

function qemuVersion(output: string): string | undefined {
  return output.match(/version (\S+)/)?.[1];
}

async function checkPython(): Promise<ToolStatus> {
  const location = locatePython();
  const base = {
    id: 'python' as const,
    label: 'python',
    required: true,
    install: `apt-get install -y python3 python3-venv && python3 -m venv ${repoPath('.venv')}`
  };
  if (!location.path) return { ...base, found: false, detail: `${location.how}: not found or not executable` };
  const run = await execa(location.path, ['--version'], { reject: false, timeout: VERSION_TIMEOUT_MS });
  if (run.exitCode !== 0) return { ...base, found: false, path: location.path, detail: `${location.path} --version failed: ${firstLine(run.stderr || run.stdout)}` };
  return { ...base, found: true, path: location.path, version: (run.stdout || run.stderr).trim().replace(/^Python\s+/, ''), detail: location.how };
}

const TORCH_PROBE = [
  'import json',
  'try:',
  '    import torch, torchvision',
  '    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__}))',
  'except Exception as e:',
  '    print(json.dumps({"error": type(e).__name__ + ": " + str(e)}))'
].join('\n');

async function checkTorch(): Promise<ToolStatus> {
  const python = await findTool('python');
  const base = { id: 'torch' as const, label: 'PyTorch + torchvision', required: true, install: `${python.path ?? repoFiles.venvPython} -m pip install ${TORCH_PINS}` };
  if (!python.found || !python.path) return { ...base, found: false, detail: 'needs python first' };
  const run = await execa(python.path, ['-c', TORCH_PROBE], { reject: false, timeout: TORCH_IMPORT_TIMEOUT_MS });
  let probe: { torch?: string; torchvision?: string; error?: string } = {};
  try {
    probe = JSON.parse(run.stdout.trim().split('\n').pop() ?? '');
  } catch {
    probe = { error: firstLine(run.stderr) || `python exited with ${run.exitCode}${run.timedOut ? ' (timed out)' : ''}` };
  }
  if (!probe.torch) return { ...base, found: false, path: python.path, detail: `import torch, torchvision failed: ${probe.error}` };
  return { ...base, found: true, path: python.path, version: `torch ${probe.torch}, torchvision ${probe.torchvision}` };
}

const EDGESPEC_PROBE = [
  'import importlib.util, os',
  'spec = importlib.util.find_spec("edgespec")',
  'print(os.path.dirname(spec.origin) if spec and spec.origin else "")'
].join('\n');

/** The Python half of edgespec (kernel-bridge/), which `edgespec capture` runs. Found, not imported: importing pulls in torch. */
async function checkEdgespecPython(): Promise<ToolStatus> {
  const python = await findTool('python');
  const base = { id: 'edgespec-python' as const, label: 'edgespec Python package', required: true, install: `${python.path ?? repoFiles.venvPython} -m pip install -e ${repoFiles.kernelBridgeDir}` };
  if (!python.found || !python.path) return { ...base, found: false, detail: 'needs python first' };
  const run = await execa(python.path, ['-c', EDGESPEC_PROBE], { reject: false, timeout: VERSION_TIMEOUT_MS, env: pythonEnv(), extendEnv: false });
  const where = run.exitCode === 0 ? run.stdout.trim() : '';
  if (!where) return { ...base, found: false, detail: `python cannot find the module edgespec${run.exitCode !== 0 ? `: ${firstLine(run.stderr)}` : ''}` };
  return { ...base, found: true, path: where };
}

async function checkPicolibc(): Promise<ToolStatus> {
  const base = { id: 'picolibc' as const, label: 'picolibc for aarch64', required: true, install: 'apt-get install -y picolibc-aarch64-linux-gnu' };
  if (!existsSync(PICOLIBC_SPECS)) return { ...base, found: false, detail: `${PICOLIBC_SPECS} does not exist` };
  const dpkg = findOnPath('dpkg-query');
  let version: string | undefined;
  if (dpkg) {
    const run = await execa(dpkg, ['-W', '-f=${Version}', 'picolibc-aarch64-linux-gnu'], { reject: false, timeout: VERSION_TIMEOUT_MS });
    if (run.exitCode === 0 && run.stdout.trim()) version = run.stdout.trim();
  }
  return { ...base, found: true, path: PICOLIBC_SPECS, version };
}

async function checkNode(): Promise<ToolStatus> {
  const major = Number(process.versions.node.split('.')[0]);
  const base = { id: 'node' as const, label: 'node', required: true, install: 'install Node.js 20 or newer from https://nodejs.org (Debian 12 ships 18)', path: process.execPath, version: process.versions.node };
  if (major < MIN_NODE_MAJOR) return { ...base, found: false, detail: `node ${process.versions.node} is older than ${MIN_NODE_MAJOR}` };
  return { ...base, found: true };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
