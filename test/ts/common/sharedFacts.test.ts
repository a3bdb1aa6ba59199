// Targets, dtypes, the build-folder rule and the build-directory entries have one owner
// (src/common/targets.json, build-dir.json), read by the CLI, the lab, the server and the
// bench. Here: the CLI's default --out follows the rule the server uses, every file a build
// writes is one the list allows (so a rebuild replaces it), and Python reads the same list.
import execa from 'execa';
import { existsSync, promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildDirName, DEFAULT_TARGET, DTYPES, TARGETS } from '../../../src/common/targets';
import { foreignEntries } from '../../../src/toolchain/build/buildDirContents';
import { loadTarget } from '../../../src/toolchain/build/targets';
import { repoFiles, repoPath } from '../../../src/toolchain/paths';
import { writeHalfInputBundle } from '../build/helpers/graphBuilder';
import { SMALL_GRAPHS } from '../build/helpers/smallGraphs';
import { buildToolchain, runCli } from '../foundation/cliProcess';

let workDir: string;
let bundle: string;

beforeAll(async () => {
  await buildToolchain();
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-shared-facts-'));
  bundle = path.join(workDir, 'bundle');
  await writeHalfInputBundle(bundle, SMALL_GRAPHS.sequence());
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

test('every target has its platform, and the default is one of them', () => {
  expect(TARGETS).toContain(DEFAULT_TARGET);
  for (const target of TARGETS) {
    expect(existsSync(path.join(repoFiles.kernelsDir, 'platform', target, 'build.json'))).toBe(true);
    expect(loadTarget(target).name).toBe(target);
  }
  expect(DTYPES).toEqual(['float32', 'int8']);
});

test('a build goes to BUNDLE/build/<target>, or <target>-int8 for int8', () => {
  expect(buildDirName('qemu-virt', 'float32')).toBe('qemu-virt');
  expect(buildDirName('linux', 'int8')).toBe('linux-int8');
});

/** The entries of a build directory that Python's reader of build-dir.json calls foreign. */
async function foreignToPython(dir: string, target: string): Promise<string[]> {
  const script = [
    'import json, os, sys',
    "sys.path.insert(0, sys.argv[3])",
    'from edgespec.build_dir_contents import BuildDirRules',
    'rules = BuildDirRules(sys.argv[2])',
    'out = []',
    'for name in sorted(os.listdir(sys.argv[1])):',
    '    p = os.path.join(sys.argv[1], name)',
    '    if os.path.isdir(p):',
    '        rule = rules.subdir_rule(name)',
    '        out += [name + "/"] if rule is None else [name + "/" + e for e in os.listdir(p) if not rule(e)]',
    '    elif not rules.is_build_file(name):',
    '        out.append(name)',
    'print(json.dumps(out))'
  ].join('\n');
  const { stdout } = await execa(repoFiles.venvPython, ['-c', script, dir, target, repoPath('kernel-bridge')]);
  return JSON.parse(stdout) as string[];
}

test.each(DTYPES)('edgespec build --dtype %s without --out writes the folder the rule names, and a rebuild replaces it', async dtype => {
  const expected = path.join(bundle, 'build', buildDirName('host', dtype));
  for (let i = 0; i < 2; i++) {
    const run = await runCli(['build', bundle, '--target', 'host', '--dtype', dtype, '--json']);
    expect(run.exitCode).toBe(0);
  }
  const names = await fs.readdir(expected);
  expect(names).toEqual(expect.arrayContaining(['build.json', 'boot.sh', 'footprint.html', 'footprint.json', 'image.elf']));
  // the archive the server writes beside it, and a run's report: still edgespec's
  await fs.writeFile(path.join(expected, `sequence-host${dtype === 'int8' ? '-int8' : ''}.zip`), 'PK');
  await fs.writeFile(path.join(expected, 'notes.txt'), 'mine');
  expect(await foreignEntries(expected, 'host')).toEqual(['notes.txt']);
  expect(await foreignToPython(expected, 'host')).toEqual(['notes.txt']);
  await fs.rm(path.join(expected, 'notes.txt'));
});
