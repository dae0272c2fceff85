// tarOf writes files into a POSIX tar (ustar): the build context the
// dashboard sends with a template build.

export interface TarFile { name: string; data: Uint8Array }

export function tarOf(files: TarFile[]): Uint8Array<ArrayBuffer> {
  const blocks = (n: number) => Math.ceil(n / 512) * 512;
  const out = new Uint8Array(files.reduce((n, f) => n + 512 + blocks(f.data.length), 0) + 1024);
  let at = 0;
  for (const f of files) {
    out.set(header(f.name, f.data.length), at);
    out.set(f.data, at + 512);
    at += 512 + blocks(f.data.length);
  }
  return out;
}

function header(name: string, size: number): Uint8Array {
  const enc = new TextEncoder().encode(name);
  if (enc.length > 100) throw new Error(`${name}: a file name in the context is at most 100 bytes`);
  const hd = new Uint8Array(512);
  const put = (at: number, s: string) => hd.set(new TextEncoder().encode(s), at);
  const octal = (at: number, width: number, n: number) => put(at, n.toString(8).padStart(width - 1, '0'));
  hd.set(enc, 0);
  octal(100, 8, 0o644); // mode
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, size);
  octal(136, 12, Math.floor(Date.now() / 1000)); // mtime
  put(148, '        '); // the checksum counts itself as spaces
  put(156, '0'); // a regular file
  put(257, 'ustar\u000000');
  const sum = hd.reduce((a, b) => a + b, 0);
  put(148, sum.toString(8).padStart(6, '0') + '\u0000 ');
  return hd;
}
