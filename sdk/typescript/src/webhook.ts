/**
 * Verifying webhook deliveries. Each carries `Runtools-Signature:
 * t=UNIX,v1=HEX`, HEX the HMAC-SHA256 (keyed with the webhook's secret) of
 * `UNIX.BODY`; it is checked over the raw body, before parsing it, and
 * the timestamp must be recent, so an old delivery cannot be replayed.
 * Uses Web Crypto (Node.js 20+, browsers, Deno, Bun).
 */
import { RuntoolsError } from './errors.js';
import type { WebhookEvent } from './types.js';
import { webhookEventFromWire } from './wire.js';

/** The header of a delivery's signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'Runtools-Signature';
/** The header of a delivery's event ID, the same on every retry. */
export const WEBHOOK_EVENT_ID_HEADER = 'Runtools-Event-Id';

/** Options of verifyWebhook. */
export interface VerifyWebhookOptions {
  /** How far the signature's time may be from now; default 300 s. */
  toleranceSeconds?: number;
  /** The time to check against; default now. */
  now?: Date;
}

function refuse(message: string): RuntoolsError {
  return new RuntoolsError(`webhook: ${message}`, { code: 'unauthenticated', status: 0 });
}

async function hmacHex(secret: string, data: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await globalThis.crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, enc.encode(data)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Compares in time that does not depend on where the strings differ. */
function same(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/**
 * Checks a delivery (its raw body as text and its Runtools-Signature header)
 * with the webhook's secret and returns its event; throws a RuntoolsError
 * (code `unauthenticated`) if the signature does not match or is too old.
 * A delivery may come more than once: drop an event ID already handled.
 */
export async function verifyWebhook(secret: string, signature: string | null | undefined, body: string, opts: VerifyWebhookOptions = {}): Promise<WebhookEvent> {
  let ts = '';
  const sigs: string[] = [];
  for (const part of (signature ?? '').split(',')) {
    const [k, v = ''] = part.trim().split('=', 2);
    if (k === 't') ts = v;
    if (k === 'v1') sigs.push(v);
  }
  if (!/^\d+$/.test(ts) || sigs.length === 0) throw refuse('the signature header is not t=UNIX,v1=HEX');
  const now = (opts.now ?? new Date()).getTime() / 1000;
  if (Math.abs(now - Number(ts)) > (opts.toleranceSeconds ?? 300)) throw refuse('the signature is too old (a replay?)');
  const want = await hmacHex(secret, `${ts}.${body}`);
  if (!sigs.some((s) => same(s, want))) throw refuse('the signature does not match');
  return webhookEventFromWire(JSON.parse(body));
}
