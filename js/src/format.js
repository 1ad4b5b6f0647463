// @ts-check
// Numbers as people read them: times, sizes, levels.

/**
 * `m:ss.s`; negative or unknown times read as 0.
 * @param {number} t seconds
 */
export function fmtTime(t) {
  if (!Number.isFinite(t) || t < 0) t = 0;
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s < 10 ? "0" : ""}${s.toFixed(1)}`;
}

/** @param {number} n bytes */
export function fmtBytes(n) {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** @param {number} s seconds */
export function fmtElapsed(s) {
  if (s < 60) return `${Math.floor(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
}

/** @param {number | null | undefined} v dBFS */
export function fmtDb(v) {
  return typeof v === "number" && Number.isFinite(v)
    ? `${v.toFixed(1).replace("-", "−")} dBFS`
    : "—";
}
