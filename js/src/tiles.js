// @ts-check
// Detail on demand, the browser's half: which tiles of the kernel's pyramid a view needs,
// which of them are here, and the waveform columns drawn from the tiles and the first peaks.
//
// The kernel's pyramid (camb_notebook/widget/_tiles.py): level L cuts the clip into 2**L
// tiles of TILE_COLUMNS columns. Pure logic, unit-tested; the player does the drawing.

/** Columns of one tile (as the kernel's `TILE_COLUMNS`). */
export const TILE_COLUMNS = 512;
/** Columns of a lane's first pictures (the kernel's `PEAK_BINS` / `SPEC_WIDTH`). */
export const BASE_COLUMNS = 1200;
/** The deepest level shows this many columns per sample (the kernel's `COLUMNS_PER_SAMPLE`). */
export const COLUMNS_PER_SAMPLE = 8;

/**
 * The deepest level of a clip of `nSamples` (as the kernel's `max_level`).
 * @param {number} nSamples
 */
export function maxLevel(nSamples) {
  if (!(nSamples > 0)) return 0;
  return Math.max(0, Math.floor(Math.log2((COLUMNS_PER_SAMPLE * nSamples) / TILE_COLUMNS)));
}

/**
 * The level whose columns are no wider than a screen pixel for this window, or null when
 * the first pictures already show that much (no tiles needed).
 *
 * @param {{start: number, end: number}} view seconds
 * @param {number} width Screen pixels across the window (CSS pixels × devicePixelRatio).
 * @param {number} nSamples Samples in the clip.
 * @param {number} sampleRate
 * @returns {number | null}
 */
export function tileLevel(view, width, nSamples, sampleRate) {
  if (!(width > 0 && nSamples > 0 && sampleRate > 0)) return null;
  const perPixel = ((view.end - view.start) * sampleRate) / width; // samples per pixel
  if (perPixel >= nSamples / BASE_COLUMNS) return null;
  const level = Math.ceil(Math.log2(nSamples / (TILE_COLUMNS * Math.max(perPixel, 1e-9))) - 1e-9);
  return Math.min(maxLevel(nSamples), Math.max(0, level));
}

/**
 * Indices of the tiles of `level` that the window overlaps.
 * @param {{start: number, end: number}} view seconds
 * @param {number} level
 * @param {number} nSamples
 * @param {number} sampleRate
 * @returns {number[]}
 */
export function tilesFor(view, level, nSamples, sampleRate) {
  const count = 2 ** level;
  const per = nSamples / count; // samples per tile
  const first = Math.max(0, Math.floor((view.start * sampleRate) / per));
  const last = Math.min(count - 1, Math.floor((view.end * sampleRate - 1e-6) / per));
  const out = [];
  for (let i = first; i <= last; i++) out.push(i);
  return out;
}

/**
 * @typedef {object} TileData
 * @property {string} lane
 * @property {number} level
 * @property {number} index
 * @property {number} t0 seconds
 * @property {number} t1 seconds
 * @property {Float32Array} peaks 2 × columns: minima then maxima.
 * @property {any} image What the player draws (an ImageBitmap); closed when evicted.
 * @property {number} bytes
 */

/**
 * Tiles held in the browser, least recently used dropped first past a byte budget.
 */
export class TileCache {
  /**
   * @param {number} [budget] bytes
   * @param {(tile: TileData) => void} [onEvict] e.g. close the tile's ImageBitmap
   */
  constructor(budget = 64 << 20, onEvict = () => {}) {
    this.budget = budget;
    this.onEvict = onEvict;
    /** @type {Map<string, TileData>} */
    this.map = new Map();
    this.bytes = 0;
  }

  /**
   * @param {string} lane
   * @param {number} level
   * @param {number} index
   */
  static key(lane, level, index) {
    return `${lane}/${level}/${index}`;
  }

  /** @param {TileData} tile */
  put(tile) {
    const key = TileCache.key(tile.lane, tile.level, tile.index);
    const old = this.map.get(key);
    if (old) this.drop(key, old);
    this.map.set(key, tile);
    this.bytes += tile.bytes;
    for (const [k, t] of this.map) {
      if (this.bytes <= this.budget || k === key) break;
      this.drop(k, t);
    }
  }

  /**
   * @param {string} lane
   * @param {number} level
   * @param {number} index
   */
  get(lane, level, index) {
    const key = TileCache.key(lane, level, index);
    const tile = this.map.get(key);
    if (tile) {
      this.map.delete(key); // most recently used last
      this.map.set(key, tile);
    }
    return tile;
  }

  /**
   * @param {string} lane
   * @param {number} level
   * @param {number} index
   */
  has(lane, level, index) {
    return this.map.has(TileCache.key(lane, level, index));
  }

  /**
   * @param {string} key
   * @param {TileData} tile
   */
  drop(key, tile) {
    this.map.delete(key);
    this.bytes -= tile.bytes;
    this.onEvict(tile);
  }

  clear() {
    for (const [k, t] of [...this.map]) this.drop(k, t);
  }

  /**
   * What to draw for `lane` at `level` over `indices`, coarsest first: for each wanted
   * tile, the tile itself or, until it arrives, the nearest coarser tile that covers it
   * (so a zoom shows coarse detail at once, then sharpens).
   * @param {string} lane
   * @param {number} level
   * @param {number[]} indices
   * @returns {TileData[]}
   */
  cover(lane, level, indices) {
    /** @type {Map<string, TileData>} */
    const found = new Map();
    for (const index of indices) {
      for (let l = level, i = index; l >= 0; l--, i = Math.floor(i / 2)) {
        const tile = this.get(lane, l, i);
        if (tile) {
          found.set(TileCache.key(lane, l, i), tile);
          break;
        }
      }
    }
    return [...found.values()].sort((a, b) => a.level - b.level);
  }
}

/**
 * Which tiles to ask the kernel for: those of `indices` not cached and not already asked
 * for by the request in flight. Each call that asks for something makes a new request id,
 * and the kernel drops what an older request of this view still had to render.
 */
export class TileRequests {
  constructor() {
    this.id = 0;
    /** @type {Set<string>} tiles asked for by the latest request */
    this.inFlight = new Set();
  }

  /**
   * @param {TileCache} cache
   * @param {string[]} lanes
   * @param {number} level
   * @param {number[]} indices
   * @returns {{request_id: number, tiles: number[][], lanes: string[]} | null}
   */
  next(cache, lanes, level, indices) {
    const wanted = indices.filter((i) => lanes.some((lane) => !cache.has(lane, level, i)));
    const key = wanted.map((i) => `${level}/${i}`);
    if (key.every((k) => this.inFlight.has(k))) return null; // all asked for already
    this.id += 1;
    this.inFlight = new Set(key);
    // Middle tiles first: what the eye is on.
    const mid = (indices[0] + indices[indices.length - 1]) / 2;
    const order = [...wanted].sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid));
    return { request_id: this.id, tiles: order.map((i) => [level, i]), lanes: [...lanes] };
  }

  /**
   * A tile arrived (any lane): it is no longer in flight once every lane has it.
   * @param {TileCache} cache
   * @param {string[]} lanes
   * @param {number} level
   * @param {number} index
   */
  arrived(cache, lanes, level, index) {
    if (lanes.every((lane) => cache.has(lane, level, index))) this.inFlight.delete(`${level}/${index}`);
  }
}

/**
 * @typedef {object} PeakLayer
 * @property {number} t0 seconds
 * @property {number} t1 seconds
 * @property {Float32Array} peaks n minima then n maxima over [t0, t1)
 */

/**
 * Waveform columns of a window from layers of peaks, later layers drawn over earlier ones
 * (the first peaks of the whole clip first, then tiles coarse to fine). Columns no layer
 * covers stay NaN.
 *
 * @param {{start: number, end: number}} view seconds
 * @param {number} width columns
 * @param {PeakLayer[]} layers
 * @returns {{lo: Float32Array, hi: Float32Array}}
 */
export function windowColumns(view, width, layers) {
  const lo = new Float32Array(width).fill(NaN);
  const hi = new Float32Array(width).fill(NaN);
  const span = Math.max(view.end - view.start, 1e-12);
  for (const { t0, t1, peaks } of layers) {
    const n = Math.floor(peaks.length / 2);
    if (!n || !(t1 > t0)) continue;
    const x0 = Math.max(0, Math.floor(((t0 - view.start) / span) * width));
    const x1 = Math.min(width, Math.ceil(((t1 - view.start) / span) * width));
    for (let x = x0; x < x1; x++) {
      const ta = view.start + (x / width) * span;
      const tb = view.start + ((x + 1) / width) * span;
      const a = Math.max(0, Math.floor(((ta - t0) / (t1 - t0)) * n));
      const b = Math.min(n, Math.max(a + 1, Math.ceil(((tb - t0) / (t1 - t0)) * n)));
      if (a >= n) continue;
      let l = Infinity;
      let u = -Infinity;
      for (let i = a; i < b; i++) {
        if (peaks[i] < l) l = peaks[i];
        if (peaks[n + i] > u) u = peaks[n + i];
      }
      lo[x] = Math.max(-1, l);
      hi[x] = Math.min(1, u);
    }
  }
  return { lo, hi };
}

/**
 * Labelled frequencies of a log-frequency axis from `fmin` to `fmax` Hz, each with its
 * height as a fraction from the bottom (the kernel's log rows: FMIN to half the rate).
 * @param {number} fmin
 * @param {number} fmax
 * @param {number} [height] pixels: fewer labels when the lane is short
 * @returns {{hz: number, label: string, y: number}[]}
 */
export function freqTicks(fmin, fmax, height = 112) {
  if (!(fmax > fmin && fmin > 0)) return [];
  const all = [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];
  const room = Math.max(2, Math.floor(height / 16)); // a label is ~12 px tall
  const span = Math.log(fmax / fmin);
  let picks = all.filter((f) => f > fmin * 1.15 && f < fmax / 1.08);
  if (picks.length > room) picks = picks.filter((f) => /^[15]/.test(String(f)));
  if (picks.length > room) picks = picks.filter((f) => /^1/.test(String(f)));
  while (picks.length > room) picks = picks.filter((_, i) => i % 2 === 0);
  return picks.map((hz) => ({
    hz,
    label: hz >= 1000 ? `${hz / 1000}k` : String(hz),
    y: Math.log(hz / fmin) / span,
  }));
}

/**
 * The frequency at height `y` (0 bottom … 1 top) of the log axis from `fmin` to `fmax` Hz.
 * @param {number} y
 * @param {number} fmin
 * @param {number} fmax
 */
export function freqAt(y, fmin, fmax) {
  return fmin * (fmax / fmin) ** Math.min(1, Math.max(0, y));
}

/**
 * A frequency as a readout: "440 Hz", "2.35 kHz".
 * @param {number} hz
 */
export function fmtHz(hz) {
  return hz >= 1000 ? `${(hz / 1000).toFixed(hz >= 10000 ? 1 : 2)} kHz` : `${Math.round(hz)} Hz`;
}

/**
 * Peak level in dBFS of waveform column `x` (from `windowColumns` or `peakColumns`), or null.
 * @param {{lo: Float32Array, hi: Float32Array} | null} cols
 * @param {number} x
 */
export function columnDb(cols, x) {
  if (!cols || x < 0 || x >= cols.lo.length) return null;
  const peak = Math.max(Math.abs(cols.lo[x]), Math.abs(cols.hi[x]));
  if (Number.isNaN(peak)) return null;
  return peak > 1e-6 ? 20 * Math.log10(peak) : -120;
}
