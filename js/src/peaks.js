// @ts-check
// Waveform columns from the kernel's min/max envelope.

/**
 * Reduce a `(2, n)` min/max envelope (mins first, then maxes) to `width` pixel columns.
 *
 * @param {Float32Array} peaks `2 * n` values: n minima then n maxima, in -1..1.
 * @param {number} width Columns wanted.
 * @returns {{lo: Float32Array, hi: Float32Array}} Per-column minimum and maximum.
 */
export function peakColumns(peaks, width) {
  const n = Math.floor(peaks.length / 2);
  const lo = new Float32Array(width);
  const hi = new Float32Array(width);
  if (n === 0) return { lo, hi };
  for (let x = 0; x < width; x++) {
    const a = Math.floor((x / width) * n);
    const b = Math.max(a + 1, Math.floor(((x + 1) / width) * n));
    let l = 0;
    let u = 0;
    for (let i = a; i < b && i < n; i++) {
      if (peaks[i] < l) l = peaks[i];
      if (peaks[n + i] > u) u = peaks[n + i];
    }
    lo[x] = Math.max(-1, l);
    hi[x] = Math.min(1, u);
  }
  return { lo, hi };
}
