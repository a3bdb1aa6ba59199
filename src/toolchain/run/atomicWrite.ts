import { promises as fs } from 'fs';
import { removeOnInterrupt } from '../interrupt';

/** Writes next to the target, then renames, so a reader never sees half a file. */
export async function writeFileAtomic(file: string, content: string | Buffer): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}-${Date.now()}`;
  const forget = removeOnInterrupt(temporary);
  try {
    await fs.writeFile(temporary, content);
    await fs.rename(temporary, file);
  } catch (e) {
    await fs.rm(temporary, { force: true });
    throw e;
  } finally {
    forget();
  }
}
