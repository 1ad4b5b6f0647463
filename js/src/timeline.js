// @ts-check
// Time ↔ pixel mapping shared by every lane of a player, and the ruler's ticks.
//
// Every lane shows the same window [start, end] of the clip, so one Viewport maps for all
// of them (zoom and pan move every lane together).

/** Seconds per ruler step, smallest first. */
export const RULER_STEPS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600,
  900, 1800, 3600,
];

export class Viewport {
  /**
   * @param {number} duration Clip length in seconds.
   */
  constructor(duration = 0) {
    this.duration = Math.max(0, duration);
    this.start = 0;
    this.end = this.duration;
    /** The narrowest window in seconds (the deepest zoom); see `setMinSpan`. */
    this.minSpan = 0.001;
  }

  /**
   * The deepest zoom: `columnsPerSample` pixels per sample across `width` pixels.
   * @param {number} sampleRate
   * @param {number} width
   * @param {number} [columnsPerSample]
   */
  setMinSpan(sampleRate, width, columnsPerSample = 8) {
    if (sampleRate > 0 && width > 0) this.minSpan = width / (columnsPerSample * sampleRate);
  }

  /** Whether the whole clip is shown. */
  get full() {
    return this.start <= 1e-9 && this.end >= this.duration - 1e-9;
  }

  /**
   * Show `[start, end]`, kept inside the clip and no narrower than `minSpan` (the span is
   * kept and moved in when it passes an end). Returns whether the window changed.
   * @param {number} start
   * @param {number} end
   */
  setWindow(start, end) {
    const d = this.duration;
    let span = Math.min(d, Math.max(end - start, Math.min(this.minSpan, d)));
    if (!Number.isFinite(span) || d <= 0) span = d;
    let a = Number.isFinite(start) ? start : 0;
    if (end - start < span) a = (start + end) / 2 - span / 2; // widened about its centre
    a = Math.min(Math.max(0, a), d - span);
    const b = a + span;
    const changed = Math.abs(a - this.start) > 1e-9 || Math.abs(b - this.end) > 1e-9;
    this.start = a;
    this.end = b;
    return changed;
  }

  /**
   * Zoom by `factor` (> 1 zooms in) keeping time `anchor` at the same pixel.
   * @param {number} factor
   * @param {number} [anchor] seconds; the window's centre by default
   */
  zoomBy(factor, anchor) {
    if (!(factor > 0)) return false;
    const at = anchor === undefined ? (this.start + this.end) / 2 : anchor;
    const f = (at - this.start) / this.span;
    const span = this.span / factor;
    return this.setWindow(at - f * span, at - f * span + span);
  }

  /**
   * Move the window by `seconds` (stops at the clip's ends).
   * @param {number} seconds
   */
  panBy(seconds) {
    const span = this.end - this.start;
    const a = Math.min(Math.max(0, this.start + seconds), this.duration - span);
    return this.setWindow(a, a + span);
  }

  /** Show the whole clip. */
  fit() {
    return this.setWindow(0, this.duration);
  }

  /** @param {number} duration */
  setDuration(duration) {
    const full = this.end - this.start >= this.duration - 1e-9;
    this.duration = Math.max(0, duration);
    if (full || this.end > this.duration) {
      this.start = 0;
      this.end = this.duration;
    }
  }

  /** Seconds the window spans. */
  get span() {
    return Math.max(this.end - this.start, 1e-9);
  }

  /**
   * The time under pixel `x` of a lane `width` pixels wide (clamped to the window).
   * @param {number} x
   * @param {number} width
   */
  timeAt(x, width) {
    const f = width > 0 ? Math.min(1, Math.max(0, x / width)) : 0;
    return this.start + f * this.span;
  }

  /**
   * The pixel of time `t` in a lane `width` pixels wide (may fall outside [0, width]).
   * @param {number} t
   * @param {number} width
   */
  xAt(t, width) {
    return ((t - this.start) / this.span) * width;
  }

  /**
   * Where `t` falls in the window, 0..1 (clamped).
   * @param {number} t
   */
  fraction(t) {
    return Math.min(1, Math.max(0, (t - this.start) / this.span));
  }
}

/**
 * A time as a ruler label: `m:ss`, with decimals only when the step needs them.
 * @param {number} t seconds
 * @param {number} step seconds between ticks
 */
export function tickLabel(t, step) {
  const decimals = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step) - 1e-9));
  const m = Math.floor(t / 60 + 1e-9);
  const s = Math.max(0, t - m * 60);
  const whole = s.toFixed(decimals);
  const pad = Number(whole) < 10 ? "0" : "";
  return `${m}:${pad}${whole}`;
}

/**
 * @typedef {object} Tick
 * @property {number} t Time in seconds.
 * @property {number} x Pixel of the tick mark.
 * @property {string} label
 * @property {"start" | "center" | "end"} align How the label sits on its mark.
 * @property {number} left Left edge of the label box in pixels.
 * @property {number} right Right edge of the label box in pixels.
 */

/**
 * Ticks for a ruler `width` pixels wide showing the viewport, with labels that never
 * overlap each other or leave the ruler.
 *
 * @param {Viewport} view
 * @param {number} width Ruler width in pixels.
 * @param {(label: string) => number} measure Label width in pixels.
 * @param {number} [gap] Least space between two labels.
 * @returns {Tick[]}
 */
export function rulerTicks(view, width, measure, gap = 10) {
  if (!(width > 0) || !(view.duration > 0)) return [];
  // The smallest step whose labels (as wide as the last one at that step: decimals only
  // when the step has them) fit side by side; a narrow ruler then still gets several.
  let step = RULER_STEPS[RULER_STEPS.length - 1];
  for (const s of RULER_STEPS) {
    if ((s / view.span) * width >= measure(tickLabel(view.end, s)) + gap) {
      step = s;
      break;
    }
  }
  /** @type {Tick[]} */
  const ticks = [];
  const first = Math.ceil(view.start / step - 1e-9) * step;
  for (let i = 0; ; i++) {
    const t = first + i * step;
    if (t > view.end + 1e-9) break;
    const x = view.xAt(t, width);
    const label = tickLabel(t, step);
    const w = measure(label);
    /** @type {"start" | "center" | "end"} */
    let align = "center";
    let left = x - w / 2;
    if (left < 0) {
      align = "start";
      left = x;
    } else if (left + w > width) {
      align = "end";
      left = x - w;
    }
    if (left < 0 || left + w > width + 0.5) continue; // cannot fit at all
    const prev = ticks[ticks.length - 1];
    if (prev && left < prev.right + gap) continue; // would touch the previous label
    ticks.push({ t, x, label, align, left, right: left + w });
  }
  return ticks;
}
