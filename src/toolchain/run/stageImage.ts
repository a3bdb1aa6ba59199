import { createHash } from 'crypto';
import { constants, promises as fs } from 'fs';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { kindOf } from '../readRegularFile';
import { RunnableBuild } from './buildDir';

const CHUNK_BYTES = 4 * 1024 * 1024;
const REBUILD = 'build it again: edgespec build BUNDLE --target qemu-virt|host|linux --out DIR';

/**
 * Copies the build's image into the run's private working directory, checking on the way
 * that its bytes are the ones build.json records (image_sha256). What runs is that copy, so
 * the image cannot be swapped (or a symlink put in its place) between the check and the run.
 * Returns the copy's path.
 */
export async function stageImage(build: RunnableBuild, workDir: string): Promise<string> {
  const copy = path.join(workDir, `image-${path.basename(build.image)}`);
  let source;
  try {
    source = await fs.open(build.image, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it is missing' : code === 'ELOOP' ? 'it is a symbolic link, not the file edgespec build writes' : code ?? (e as Error).message;
    throw new EdgespecError('build-image-invalid', `cannot use ${build.image}: ${why}`, REBUILD);
  }
  const hash = createHash('sha256');
  try {
    const stat = await source.stat();
    if (!stat.isFile()) throw new EdgespecError('build-image-invalid', `${build.image} is ${kindOf(stat)}, not the regular file edgespec build writes`, REBUILD);
    const target = await fs.open(copy, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o700);
    try {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      let position = 0;
      // Read up to the size stat'ed: a file still growing is caught by the checksum.
      while (position <= stat.size) {
        const { bytesRead } = await source.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        hash.update(chunk.subarray(0, bytesRead));
        await target.write(chunk, 0, bytesRead);
        position += bytesRead;
      }
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
  const actual = hash.digest('hex');
  if (actual !== build.imageSha256) {
    throw new EdgespecError(
      'build-image-changed',
      `${build.image} has sha256 ${actual}, but build.json records ${build.imageSha256}: the image was changed after it was built`,
      `edgespec runs only the image it built; ${REBUILD}`
    );
  }
  return copy;
}
