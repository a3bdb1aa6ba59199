/** Checks a downloaded edgespec archive: the files it must hold and their SHA-256 sums. */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PYTHON } from './jupyterLab';

export const REQUIRED_FILES = ['boot.sh', 'input.bin', 'footprint.json', 'footprint.html', 'run.json', 'console.log', 'README.txt', 'SHA256SUMS'];

export interface CheckedArchive {
  folder: string;
  files: string[];
  image: string;
}

/** Extracts `zip` into `dest` and verifies it; throws naming what is wrong. */
export function checkArchive(zip: string, dest: string): CheckedArchive {
  fs.rmSync(dest, { recursive: true, force: true });
  execFileSync(PYTHON, ['-m', 'zipfile', '-e', zip, dest]);
  const folders = fs.readdirSync(dest);
  if (folders.length !== 1) throw new Error(`the archive should hold one folder, it holds: ${folders.join(', ')}`);
  const folder = path.join(dest, folders[0]);
  const files = fs.readdirSync(folder).sort();
  const missing = REQUIRED_FILES.filter(f => !files.includes(f));
  if (missing.length) throw new Error(`the archive lacks ${missing.join(', ')} (it has ${files.join(', ')})`);
  const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'footprint.json'), 'utf8'));
  const image = manifest.image.file as string;
  if (!files.includes(path.basename(image))) throw new Error(`the archive lacks the image ${image}`);

  const sums = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(folder, 'SHA256SUMS'), 'utf8').trim().split('\n')) {
    const [digest, name] = line.split('  ');
    sums.set(name, digest);
  }
  const unlisted = files.filter(f => f !== 'SHA256SUMS' && !sums.has(f));
  if (unlisted.length) throw new Error(`SHA256SUMS does not list ${unlisted.join(', ')}`);
  for (const [name, digest] of sums) {
    const actual = createHash('sha256').update(fs.readFileSync(path.join(folder, name))).digest('hex');
    if (actual !== digest) throw new Error(`${name}: SHA-256 ${actual}, SHA256SUMS says ${digest}`);
  }
  execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: folder });
  return { folder, files, image: path.basename(image) };
}
