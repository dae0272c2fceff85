// The sandbox terminal: xterm.js over the API's terminal WebSocket. The key
// travels as the subprotocol bearer.<key>, since a browser cannot set an
// Authorization header on a WebSocket. When the connection ends (the shell
// exited, the sandbox was paused or the network broke), a key press opens
// a new one.
import { Terminal } from '@xterm/xterm';
import { api, key } from './api';

export function openTerminal(el: HTMLElement, ref: string): () => void {
  const term = new Terminal({ cols: 100, rows: 28, fontSize: 13, cursorBlink: true });
  term.open(el);
  const enc = new TextEncoder();
  let ws: WebSocket;
  let closed = false; // by the page
  const connect = () => {
    ws = new WebSocket(api.terminalURL(ref, term.cols, term.rows), ['runtools', `bearer.${key()}`]);
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (e) => term.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
    ws.onclose = (e) => {
      if (!closed) term.write(`\r\n\x1b[2m[terminal closed${e.reason ? ': ' + e.reason : ''}; press a key to open a new one]\x1b[0m\r\n`);
    };
  };
  connect();
  const input = term.onData((d) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d));
    else if (ws.readyState === WebSocket.CLOSED) connect();
  });
  const resize = term.onResize(({ cols, rows }) =>
    ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'resize', cols, rows })));
  return () => { closed = true; input.dispose(); resize.dispose(); ws.close(); term.dispose(); };
}
