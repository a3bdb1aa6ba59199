/** An error a person can act on: what went wrong (message) and what to do (hint). */
export class EdgespecError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly details?: unknown
  ) {
    super(message);
    this.name = 'EdgespecError';
  }
}

/** What Node attaches to an error of the operating system (fs, child_process, net). */
interface SystemErrorFields {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
  dest?: string;
}

/** What each errno means for the person who sees it, and what they can do about it. */
const ERRNO_MEANINGS: Record<string, { code: string; problem: string; fix: (where: string) => string }> = {
  EACCES: { code: 'permission-denied', problem: 'permission denied', fix: w => `give your user access to ${w} (ls -ld, chmod, chown), or use another directory you own` },
  EPERM: { code: 'permission-denied', problem: 'operation not permitted', fix: w => `check the permissions and attributes of ${w} (ls -ld, lsattr), or use another directory you own` },
  EROFS: { code: 'read-only-file-system', problem: 'the file system is read-only', fix: w => `use a directory on a writable file system instead of ${w} (e.g. pass --out DIR)` },
  ENOSPC: { code: 'disk-full', problem: 'no space left on the device', fix: w => `free space on the file system that holds ${w} (df -h), or write elsewhere (e.g. pass --out DIR)` },
  EDQUOT: { code: 'disk-quota-exceeded', problem: 'your disk quota is used up', fix: w => `free space in your quota on the file system that holds ${w} (quota -s), or write elsewhere` },
  EFBIG: { code: 'file-too-large', problem: 'the file is larger than the file system or ulimit -f allows', fix: w => `raise the file size limit (ulimit -f) or write ${w} to another file system` },
  ENOTDIR: { code: 'not-a-directory', problem: 'a part of the path is a file, not a directory', fix: w => `check every component of ${w}; replace the file that stands where a directory should be, or pass another path` },
  EISDIR: { code: 'is-a-directory', problem: 'it is a directory where a file was expected', fix: w => `pass a file, not the directory ${w}` },
  ENOENT: { code: 'not-found', problem: 'no such file or directory', fix: w => `check that ${w} exists (it may have been moved or removed while edgespec ran)` },
  EEXIST: { code: 'already-exists', problem: 'it already exists', fix: w => `remove or rename ${w}, or choose another path` },
  ENOTEMPTY: { code: 'directory-not-empty', problem: 'the directory is not empty', fix: w => `empty or rename ${w}, or choose another path` },
  EMFILE: { code: 'too-many-open-files', problem: 'this process has too many files open', fix: () => 'raise the open-file limit (ulimit -n 4096) and run the command again' },
  ENFILE: { code: 'too-many-open-files', problem: 'the system has too many files open', fix: () => 'close other programs, or raise the system limit (fs.file-max), and run the command again' },
  ENAMETOOLONG: { code: 'name-too-long', problem: 'the path or one of its names is too long', fix: w => `use a shorter path than ${w}` },
  ELOOP: { code: 'symlink-loop', problem: 'too many levels of symbolic links (a link loop?)', fix: w => `check the symbolic links along ${w} (ls -l); one of them leads back to itself` },
  EXDEV: { code: 'cross-device', problem: 'it cannot be moved across file systems', fix: w => `keep ${w} on one file system` },
  EBUSY: { code: 'busy', problem: 'it is busy (in use or a mount point)', fix: w => `stop whatever uses ${w}, or choose another path` },
  ETXTBSY: { code: 'busy', problem: 'the file is being executed', fix: w => `wait until ${w} is no longer running, or choose another path` },
  EIO: { code: 'io-error', problem: 'an input/output error of the disk or file system', fix: w => `check the disk that holds ${w} (dmesg); copy your data off it if it is failing` },
  ENOMEM: { code: 'out-of-memory', problem: 'the system is out of memory', fix: () => 'close other programs or add memory or swap, and run the command again' },
  ENXIO: { code: 'no-such-device', problem: 'no such device or address (a FIFO or socket with no one at the other end?)', fix: w => `pass a regular file instead of ${w}` }
};

/** The operation Node names in `syscall`, said the way a person would. */
const DOING: Record<string, string> = {
  open: 'open', read: 'read', write: 'write to', mkdir: 'create the directory', mkdtemp: 'create a directory in', rmdir: 'remove',
  rm: 'remove', unlink: 'remove', rename: 'rename', copyfile: 'copy', scandir: 'list', readdir: 'list', stat: 'look at', lstat: 'look at',
  access: 'access', chmod: 'change the mode of', utime: 'set the time of', symlink: 'link', link: 'link', readlink: 'read the link',
  realpath: 'resolve', opendir: 'list', close: 'close', fsync: 'write to', ftruncate: 'write to', spawn: 'start'
};

function systemErrorFields(e: unknown): SystemErrorFields | undefined {
  // not `instanceof Error`: errors made in another realm (a vm context) are errors too
  if (typeof e !== 'object' || e === null || typeof (e as Error).message !== 'string') return undefined;
  const code = (e as Partial<SystemErrorFields>).code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  return e as unknown as SystemErrorFields;
}

/** The system's word for a path's failure ("no space left on the device (ENOSPC)"), if `code` is an errno edgespec knows. */
export function errnoProblem(code: string): string | undefined {
  const meaning = ERRNO_MEANINGS[code];
  return meaning ? `${meaning.problem} (${code})` : undefined;
}

/**
 * An error of the operating system (a Node fs or spawn error: EACCES, EROFS, ENOSPC, ...)
 * as one clear message naming the path, the errno and the fix; undefined for anything else
 * (a true bug stays a bug). Every command's uncaught system error goes through here.
 */
export function fromSystemError(e: unknown): EdgespecError | undefined {
  const fields = systemErrorFields(e);
  if (!fields) return undefined;
  const meaning = ERRNO_MEANINGS[fields.code];
  const where = fields.path ?? fields.dest;
  const doing = fields.syscall ? DOING[fields.syscall.replace(/^spawn .*/, 'spawn')] ?? fields.syscall : undefined;
  const target = where ? `${fields.dest && fields.path ? `${fields.path} to ${fields.dest}` : where}` : undefined;
  const what = target ? `cannot ${doing ?? 'use'} ${target}` : `a file operation${fields.syscall ? ` (${fields.syscall})` : ''} failed`;
  const details = { errno: fields.code, ...(fields.syscall ? { syscall: fields.syscall } : {}), ...(where ? { path: where } : {}) };
  if (!meaning) {
    return new EdgespecError('system-error', `${what}: ${(e as Error).message.replace(/^[A-Z0-9]+: /, '')}`, `the operating system refused (${fields.code}); check ${where ?? 'the files involved'} and run the command again`, details);
  }
  return new EdgespecError(meaning.code, `${what}: ${meaning.problem} (${fields.code})`, meaning.fix(where ?? 'the files involved'), details);
}
