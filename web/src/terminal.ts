// The sandbox terminal: xterm.js over the API's terminal WebSocket. The key
// travels as the subprotocol bearer.<key>, since a browser cannot set an
// Authorization header on a WebSocket.
import { Terminal } from '@xterm/xterm';
import { api, key } from './api';

export function openTerminal(el: HTMLElement, ref: string): () => void {
  const term = new Terminal({ cols: 100, rows: 28, fontSize: 13, cursorBlink: true });
  term.open(el);
  const ws = new WebSocket(api.terminalURL(ref, term.cols, term.rows), ['runtools', `bearer.${key()}`]);
  ws.binaryType = 'arraybuffer';
  const enc = new TextEncoder();
  ws.onmessage = (e) => term.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
  ws.onclose = (e) => term.write(`\r\n\x1b[2m[terminal closed${e.reason ? ': ' + e.reason : ''}]\x1b[0m\r\n`);
  const input = term.onData((d) => ws.readyState === WebSocket.OPEN && ws.send(enc.encode(d)));
  const resize = term.onResize(({ cols, rows }) =>
    ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'resize', cols, rows })));
  (window as unknown as { runtoolsTerminal: Terminal }).runtoolsTerminal = term;
  return () => { input.dispose(); resize.dispose(); ws.close(); term.dispose(); };
}
