/** Files inside one sandbox: read, write, list, and tar streams of trees. */
import { NotFoundError } from './errors.js';
import type { Http } from './http.js';
import { routes } from './routes.js';
import type { FileInfo, WriteOptions } from './types.js';
import { arr, fileInfoFromWire, obj } from './wire.js';

/** What can be written to a file or uploaded as a tar stream. */
export type FileData = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

function bodyOf(data: FileData): Uint8Array | Blob | ReadableStream<Uint8Array> | string {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** Options that only stop waiting. */
export interface SignalOptions {
  signal?: AbortSignal;
}

/** File operations of one sandbox. Paths are absolute paths inside it; a use wakes a paused sandbox. */
export class Files {
  constructor(
    private readonly http: Http,
    private readonly ref: string,
  ) {}

  /** Streams a file's content. */
  async open(path: string, opts: SignalOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.http.send(routes.readFile, { params: { ref: this.ref }, query: { path }, signal: opts.signal });
    return res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  }

  /** Reads a whole file. */
  async read(path: string, opts: SignalOptions = {}): Promise<Uint8Array> {
    return this.http.bytes(routes.readFile, { params: { ref: this.ref }, query: { path }, signal: opts.signal });
  }

  /** Reads a whole file as UTF-8 text. */
  async readText(path: string, opts: SignalOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.read(path, opts));
  }

  /** Writes a file, replacing it atomically; strings are written as UTF-8. */
  async write(path: string, data: FileData, opts: WriteOptions = {}): Promise<FileInfo> {
    const mode = '0' + (opts.mode ?? 0o644).toString(8);
    const w = await this.http.json(routes.writeFile, {
      params: { ref: this.ref },
      query: { path, mode, mkdirs: opts.mkdirs === true },
      body: bodyOf(data),
      signal: opts.signal,
    });
    return fileInfoFromWire(w);
  }

  /** Describes a path without following a final symlink. */
  async stat(path: string): Promise<FileInfo> {
    return fileInfoFromWire(await this.http.json(routes.statFile, { params: { ref: this.ref }, query: { path } }));
  }

  /** Tells whether a path exists. */
  async exists(path: string): Promise<boolean> {
    try {
      await this.stat(path);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** A directory's entries, sorted by name. */
  async list(path: string): Promise<FileInfo[]> {
    const w = await this.http.json(routes.listFiles, { params: { ref: this.ref }, query: { path } });
    return arr(w.entries).map((e) => fileInfoFromWire(obj(e)));
  }

  /** Makes a directory; with parents, missing parents too. */
  async mkdir(path: string, opts: { parents?: boolean } = {}): Promise<FileInfo> {
    const w = await this.http.json(routes.mkdir, { params: { ref: this.ref }, query: { path, parents: opts.parents === true } });
    return fileInfoFromWire(w);
  }

  /** Removes a file or, with recursive, a directory tree. */
  async remove(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    await this.http.empty(routes.removeFile, { params: { ref: this.ref }, query: { path, recursive: opts.recursive === true } });
  }

  /**
   * Streams a tar archive of a file or directory tree. Entry names start
   * with the base name of path: the archive of /root/app holds `app/`,
   * `app/main.js`, ...; so uploading it into a directory recreates the tree there.
   */
  async download(path: string, opts: SignalOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.http.send(routes.readArchive, { params: { ref: this.ref }, query: { path }, signal: opts.signal });
    return res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  }

  /** Extracts a tar archive into directory dir, creating it if needed; entries may not escape it. */
  async upload(dir: string, tar: FileData, opts: SignalOptions = {}): Promise<void> {
    await this.http.empty(routes.writeArchive, {
      params: { ref: this.ref },
      query: { path: dir },
      body: bodyOf(tar),
      contentType: 'application/x-tar',
      signal: opts.signal,
    });
  }
}
