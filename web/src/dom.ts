// The dashboard's few DOM helpers: build an element, show a page, and an
// error line that reports what a failed action said.

const app = () => document.getElementById('app')!;

// h builds an element: h('button', { onclick }, 'text', child).
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & Record<string, unknown> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith('data-')) el.setAttribute(k, String(v)); else (el as unknown as Record<string, unknown>)[k] = v;
  }
  el.append(...kids);
  return el;
}

// show replaces the page with kids.
export function show(...kids: Node[]): void { app().replaceChildren(...kids); }

// errorBox is an alert line; run runs f and shows its error there, if any.
export function errorBox(): { el: HTMLElement; run: (f: () => Promise<unknown>) => Promise<void> } {
  const el = h('p', { className: 'error', role: 'alert' });
  return {
    el,
    run: async (f) => {
      el.textContent = '';
      try { await f(); } catch (e) { el.textContent = e instanceof Error ? e.message : String(e); }
    },
  };
}

// megabytes says a size in bytes as MB.
export const megabytes = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
