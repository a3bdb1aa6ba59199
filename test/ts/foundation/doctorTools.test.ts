import * as path from 'path';
import { findOnPath, locatePython, pythonEnv } from '../../../src/toolchain/tools/locate';
import { findTool, requireTool } from '../../../src/toolchain/tools/tools';
import { EdgespecError } from '../../../src/toolchain/errors';
import { repoFiles } from '../../../src/toolchain/paths';

describe('locating python', () => {
  it('prefers EDGESPEC_PYTHON, resolving a bare name on PATH', () => {
    expect(locatePython({ EDGESPEC_PYTHON: 'sh', PATH: '/usr/bin:/bin' })).toEqual({ path: findOnPath('sh', '/usr/bin:/bin'), how: 'EDGESPEC_PYTHON=sh' });
    expect(locatePython({ EDGESPEC_PYTHON: '/nonexistent/python3', PATH: '/usr/bin' })).toEqual({ path: undefined, how: 'EDGESPEC_PYTHON=/nonexistent/python3' });
  });

  it('then the repository venv', () => {
    expect(locatePython({ PATH: '/nonexistent' })).toEqual({ path: repoFiles.venvPython, how: 'the repository venv' });
  });

  it('puts kernel-bridge first on PYTHONPATH, once', () => {
    const env = pythonEnv({ PYTHONPATH: ['/a', repoFiles.kernelBridgeDir].join(path.delimiter) });
    expect(env.PYTHONPATH).toBe([repoFiles.kernelBridgeDir, '/a'].join(path.delimiter));
  });
});

describe('requireTool', () => {
  it('gives the path of a tool that is installed', async () => {
    const gcc = await requireTool('aarch64-gcc');
    expect(path.basename(gcc.path)).toBe('aarch64-linux-gnu-gcc');
    expect((await findTool('node')).found).toBe(true);
  });

  it('fails early with the install command when the tool is not on PATH', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const error = await requireTool('qemu-aarch64').catch(e => e);
      expect(error).toBeInstanceOf(EdgespecError);
      expect(error.code).toBe('missing-tool');
      expect(error.message).toBe('missing user-mode emulator qemu-aarch64 (not on PATH)');
      expect(error.hint).toBe('install with: apt-get install -y qemu-user');
    } finally {
      process.env.PATH = saved;
    }
  });
});
