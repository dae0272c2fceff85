// The desktop of a desktop sandbox: noVNC's RFB client drawing on a canvas
// in the page, over the API's VNC WebSocket on the dashboard's own origin
// (no frame of another site, whose storage a browser may deny). The key
// travels as the subprotocol bearer.<key>, as the terminal's does. When
// the connection ends (the sandbox paused, the network broke), connect()
// opens a new one: the page calls it from a button and when the sandbox's
// desktop is up again.
import RFB from '@novnc/novnc';
import { api, key } from './api';

export interface Desktop {
  /** Opens a connection unless one is open or opening. */
  connect(): void;
  /** Ends the connection for good. */
  close(): void;
}

export type DesktopState = 'connecting' | 'connected' | 'disconnected';

// openDesktop draws the desktop of sandbox ref in screen, telling onState
// how the connection goes (the state is also screen's data-state).
export function openDesktop(screen: HTMLElement, ref: string, onState: (state: DesktopState, text: string) => void): Desktop {
  let rfb: RFB | undefined;
  let closed = false;
  const set = (state: DesktopState, text: string) => { screen.dataset.state = state; onState(state, text); };
  const connect = () => {
    if (closed || rfb) return;
    set('connecting', 'Connecting…');
    const r = new RFB(screen, api.vncURL(ref), { wsProtocols: ['runtools', `bearer.${key()}`] });
    r.scaleViewport = true;
    r.background = '#1f2937';
    r.addEventListener('connect', () => set('connected', ''));
    r.addEventListener('disconnect', (e) => {
      if (rfb === r) rfb = undefined;
      if (!closed) set('disconnected', (e as CustomEvent<{ clean: boolean }>).detail.clean ? 'Disconnected.' : 'The connection broke.');
    });
    rfb = r;
  };
  connect();
  return { connect, close: () => { closed = true; rfb?.disconnect(); } };
}
