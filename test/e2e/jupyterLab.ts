/**
 * A real `jupyter lab` for the end-to-end test: a random free port, a random token, a
 * temporary root directory, and Jupyter paths of its own so that it loads the lab
 * extension and the server extension straight from this repository (and no user settings).
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..');
export const PYTHON = process.env.EDGESPEC_PYTHON ?? path.join(REPO, '.venv', 'bin', 'python');
const LAB_EXTENSION = path.join(REPO, 'kernel-bridge', 'edgespec', 'labextension');
const SERVER_CONFIG = path.join(REPO, 'kernel-bridge', 'jupyter-config', 'server-config', 'edgespec.json');

export interface LabServer {
  url: string;
  token: string;
  root: string;
  logFile: string;
  stop(): Promise<void>;
}

/** What must exist before the test can mean anything; each with the command that makes it. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(path.join(REPO, 'lib', 'toolchain', 'cli.js'))) missing.push('the toolchain is not built: npm run build:toolchain');
  if (!fs.existsSync(path.join(LAB_EXTENSION, 'package.json'))) missing.push(`the lab extension is not built (${LAB_EXTENSION}): npm run build:lab`);
  if (!fs.existsSync(PYTHON)) missing.push(`no Python at ${PYTHON}: create the venv (see README) or set EDGESPEC_PYTHON`);
  return missing;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Jupyter config and data paths that point at this repository's extension builds. */
function isolatedJupyterEnv(scratch: string): NodeJS.ProcessEnv {
  const configPath = path.join(scratch, 'config-path');
  fs.mkdirSync(path.join(configPath, 'jupyter_server_config.d'), { recursive: true });
  fs.copyFileSync(SERVER_CONFIG, path.join(configPath, 'jupyter_server_config.d', 'edgespec.json'));
  const dataPath = path.join(scratch, 'data-path');
  fs.mkdirSync(path.join(dataPath, 'labextensions'), { recursive: true });
  fs.symlinkSync(LAB_EXTENSION, path.join(dataPath, 'labextensions', 'edgespec'));
  // No "would you like news?" toast over the notebook.
  const settings = path.join(scratch, 'lab-settings');
  fs.mkdirSync(path.join(settings, '@jupyterlab', 'apputils-extension'), { recursive: true });
  fs.writeFileSync(path.join(settings, '@jupyterlab', 'apputils-extension', 'notification.jupyterlab-settings'), JSON.stringify({ fetchNews: 'false' }));
  return {
    ...process.env,
    JUPYTER_CONFIG_DIR: path.join(scratch, 'config'),
    JUPYTER_CONFIG_PATH: configPath,
    JUPYTER_PATH: dataPath,
    JUPYTER_RUNTIME_DIR: path.join(scratch, 'runtime'),
    JUPYTERLAB_SETTINGS_DIR: settings,
    JUPYTERLAB_WORKSPACES_DIR: path.join(scratch, 'workspaces'),
    IPYTHONDIR: path.join(scratch, 'ipython'),
    PYTHONUNBUFFERED: '1'
  };
}

export async function startJupyterLab(root: string, scratch: string, logFile: string): Promise<LabServer> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const log = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    PYTHON,
    [
      '-m', 'jupyter', 'lab', '--no-browser',
      '--ServerApp.ip=127.0.0.1', `--ServerApp.port=${port}`, '--ServerApp.port_retries=0',
      `--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${root}`,
      '--ServerApp.allow_unauthenticated_access=False',
      '--ServerApp.allow_root=True',
      // lets the test read the application's state (kernel status) the way Galata does
      '--LabApp.expose_app_in_browser=True'
    ],
    { cwd: root, env: isolatedJupyterEnv(scratch), stdio: ['ignore', log, log], detached: true }
  );
  const url = `http://127.0.0.1:${port}`;
  let exited: number | null = null;
  child.on('exit', code => (exited = code ?? -1));

  const stop = async (): Promise<void> => {
    if (exited !== null || child.pid === undefined) return;
    const gone = new Promise(resolve => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => exited === null && process.kill(-child.pid!, 'SIGKILL'), 15000);
    await gone;
    clearTimeout(timer);
    fs.closeSync(log);
  };

  const deadline = Date.now() + 90000;
  for (;;) {
    if (exited !== null) throw new Error(`jupyter lab exited (${exited}) before it served; see ${logFile}:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      const response = await fetch(`${url}/api/status`, { headers: { Authorization: `token ${token}` } });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`jupyter lab did not answer within 90 s; see ${logFile}`);
    }
    await new Promise(resolve => setTimeout(resolve, 300));
  }
  return { url, token, root, logFile, stop };
}
