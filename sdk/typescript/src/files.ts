/** Files inside one sandbox or volume: read, write, list, and (sandboxes) tar streams of trees. */
import { NotFoundError } from './errors.js';
import type { Http } from './http.js';
import { type Route, routes } from './routes.js';
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

/** The routes of the file operations of a sandbox or of a volume. */
interface FileRoutes {
  read: Route;
  write: Route;
  remove: Route;
  stat: Route;
  list: Route;
  mkdir: Route;
}

const sandboxFiles: FileRoutes = {
  read: routes.readFile, write: routes.writeFile, remove: routes.removeFile,
  stat: routes.statFile, list: routes.listFiles, mkdir: routes.mkdir,
};

const volumeFiles: FileRoutes = {
  read: routes.readVolumeFile, write: routes.writeVolumeFile, remove: routes.removeVolumeFile,
  stat: routes.statVolumeFile, list: routes.listVolumeFiles, mkdir: routes.mkdirVolume,
};

/**
 * File operations of one volume, without a sandbox. Paths start at the
 * volume's top (`/`); one that leads out of it (`..`, a symlink pointing
 * out) is refused with an InvalidArgumentError.
 */
export class VolumeFiles {
  constructor(
    protected readonly http: Http,
    protected readonly ref: string,
    private readonly r: FileRoutes = volumeFiles,
  ) {}

  /** Streams a file's content. */
  async open(path: string, opts: SignalOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.http.send(this.r.read, { params: { ref: this.ref }, query: { path }, signal: opts.signal });
    return res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  }

  /** Reads a whole file. */
  async read(path: string, opts: SignalOptions = {}): Promise<Uint8Array> {
    return this.http.bytes(this.r.read, { params: { ref: this.ref }, query: { path }, signal: opts.signal });
  }

  /** Reads a whole file as UTF-8 text. */
  async readText(path: string, opts: SignalOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.read(path, opts));
  }

  /** Writes a file, replacing it atomically; strings are written as UTF-8. */
  async write(path: string, data: FileData, opts: WriteOptions = {}): Promise<FileInfo> {
    const mode = '0' + (opts.mode ?? 0o644).toString(8);
    const w = await this.http.json(this.r.write, {
      params: { ref: this.ref },
      query: { path, mode, mkdirs: opts.mkdirs === true },
      body: bodyOf(data),
      signal: opts.signal,
    });
    return fileInfoFromWire(w);
  }

  /** Describes a path without following a final symlink. */
  async stat(path: string): Promise<FileInfo> {
    return fileInfoFromWire(await this.http.json(this.r.stat, { params: { ref: this.ref }, query: { path } }));
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
    const w = await this.http.json(this.r.list, { params: { ref: this.ref }, query: { path } });
    return arr(w.entries).map((e) => fileInfoFromWire(obj(e)));
  }

  /** Makes a directory; with parents, missing parents too. */
  async mkdir(path: string, opts: { parents?: boolean } = {}): Promise<FileInfo> {
    const w = await this.http.json(this.r.mkdir, { params: { ref: this.ref }, query: { path, parents: opts.parents === true } });
    return fileInfoFromWire(w);
  }

  /** Removes a file or, with recursive, a directory tree. */
  async remove(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    await this.http.empty(this.r.remove, { params: { ref: this.ref }, query: { path, recursive: opts.recursive === true } });
  }

}

/** File operations of one sandbox. Paths are absolute paths inside it; a use wakes a paused sandbox. */
export class Files extends VolumeFiles {
  constructor(http: Http, ref: string) {
    super(http, ref, sandboxFiles);
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
