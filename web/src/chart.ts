// A small line chart on a <canvas>, drawn by hand: the last points of one
// series on a fixed 0..max scale, with its latest value as the title.

export class Chart {
  private points: number[] = [];
  readonly canvas = document.createElement('canvas');

  constructor(private label: string, private unit: string, private max = 100, private size = 60) {
    this.canvas.width = 320;
    this.canvas.height = 100;
    this.canvas.className = 'chart';
    this.canvas.dataset.label = label;
    this.draw();
  }

  push(v: number): void {
    this.points.push(v);
    if (this.points.length > this.size) this.points.shift();
    this.canvas.dataset.count = String(Number(this.canvas.dataset.count ?? 0) + 1); // for tests
    this.canvas.dataset.last = String(v);
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h } = this.canvas;
    const top = 20;
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = '#ddd';
    ctx.lineWidth = 1;
    for (const f of [0, 0.5, 1]) {
      const y = top + (h - top) * f;
      ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(w, y); ctx.stroke();
    }
    const last = this.points.at(-1);
    ctx.fillStyle = '#333';
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillText(`${this.label}: ${last === undefined ? '–' : last.toFixed(1) + this.unit}`, 4, 13);
    if (this.points.length < 2) return;
    const max = Math.max(this.max, ...this.points);
    const step = w / (this.size - 1);
    const x0 = w - step * (this.points.length - 1);
    ctx.strokeStyle = '#2563eb';
    ctx.lineWidth = 2;
    ctx.beginPath();
    this.points.forEach((v, i) => {
      const x = x0 + i * step;
      const y = h - (h - top) * (v / max);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
}
