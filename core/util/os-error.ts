/**
 * An OS error as redis-server prints it (strerror's text, "No space left
 * on device"), whatever shape the runtime gave it: Node and Bun an error
 * code (ENOSPC), Deno the text with "(os error 28)" after it.
 */
const STRERROR: Record<string, string> = {
  ENOSPC: "No space left on device",
  EDQUOT: "Disk quota exceeded",
  EIO: "Input/output error",
  EROFS: "Read-only file system",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EBADF: "Bad file descriptor",
  EINVAL: "Invalid argument",
  ENOENT: "No such file or directory",
  EFBIG: "File too large",
  EMFILE: "Too many open files",
};

export function osErrorText(err: unknown): string {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === "string" && STRERROR[code] !== undefined) return STRERROR[code];
  const text = typeof message === "string" ? message : String(err);
  return /^(.*) \(os error \d+\)$/.exec(text)?.[1] ?? text;
}
