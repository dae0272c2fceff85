/** The computer-use API of a desktop sandbox: screenshots, mouse, keyboard, apps. */
import type { Http } from './http.js';
import { routes } from './routes.js';
import type { ComputerAction, ComputerResult, Point, ScreenSize, Window } from './types.js';
import { actionToWire, arr, computerResultFromWire, obj, pointFromWire, screenSizeFromWire, windowFromWire } from './wire.js';

/** Options of a click. */
export interface ClickOptions {
  /** Default left. */
  button?: 'left' | 'middle' | 'right';
  /** 1-3; 2 is a double click. */
  count?: number;
}

/** Options of a scroll. */
export interface ScrollOptions {
  /** Notches right (negative: left). */
  dx?: number;
  /** Where to scroll; default where the pointer is. */
  x?: number;
  y?: number;
}

/**
 * Drives one desktop sandbox (template `desktop`). Each call returns once
 * its effect is done. A sandbox that is not a desktop, or whose desktop is
 * not up yet (see vncReady), answers with a ConflictError.
 */
export class Computer {
  constructor(
    private readonly http: Http,
    private readonly ref: string,
  ) {}

  /** The screen as PNG. */
  async screenshot(): Promise<Uint8Array> {
    return this.http.bytes(routes.screenshot, { params: { ref: this.ref }, accept: 'image/png' });
  }

  /** The screen's size in pixels. */
  async screenSize(): Promise<ScreenSize> {
    return screenSizeFromWire(await this.http.json(routes.screenSize, { params: { ref: this.ref } }));
  }

  /** Where the mouse pointer is. */
  async cursor(): Promise<Point> {
    return pointFromWire(await this.http.json(routes.cursor, { params: { ref: this.ref } }));
  }

  /** The visible windows. */
  async windows(): Promise<Window[]> {
    const w = await this.http.json(routes.windows, { params: { ref: this.ref } });
    return arr(w.windows).map((x) => windowFromWire(obj(x)));
  }

  /** Performs one action; the helpers below cover each kind. */
  async act(action: ComputerAction): Promise<ComputerResult> {
    const w = await this.http.json(routes.computerAction, { params: { ref: this.ref }, json: actionToWire(action) });
    return computerResultFromWire(w);
  }

  /** Moves the pointer to (x, y). */
  async move(x: number, y: number): Promise<ComputerResult> {
    return this.act({ action: 'move', x, y });
  }

  /** Clicks at (x, y): the left button once unless opts say otherwise. */
  async click(x: number, y: number, opts: ClickOptions = {}): Promise<ComputerResult> {
    return this.act({ action: 'click', x, y, button: opts.button, count: opts.count });
  }

  /** Double-clicks the left button at (x, y). */
  async doubleClick(x: number, y: number): Promise<ComputerResult> {
    return this.click(x, y, { count: 2 });
  }

  /** Clicks the right button at (x, y). */
  async rightClick(x: number, y: number): Promise<ComputerResult> {
    return this.click(x, y, { button: 'right' });
  }

  /** Scrolls dy notches down (negative: up). */
  async scroll(dy: number, opts: ScrollOptions = {}): Promise<ComputerResult> {
    return this.act({ action: 'scroll', dy, dx: opts.dx, x: opts.x, y: opts.y });
  }

  /** Types text. */
  async type(text: string): Promise<ComputerResult> {
    return this.act({ action: 'type', text });
  }

  /** Presses keys in turn: names or combinations such as `ctrl+l`, `Return` or `alt+F4`. */
  async key(...keys: string[]): Promise<ComputerResult> {
    return this.act({ action: 'key', keys });
  }

  /** Starts an app (firefox, chromium, terminal, files, or a program on PATH) and returns once its window shows. */
  async launch(app: string, ...args: string[]): Promise<ComputerResult> {
    return this.act({ action: 'launch', app, args: args.length > 0 ? args : undefined });
  }
}
