// @ts-check
// What the player lets you hear: an A/B switch between two lanes (the default: one lane at a
// time, so Play never sounds the mix twice over), or a mix of lanes with solo and mute.
// Pure: the audio graph applies what this decides.

/** @typedef {"ab" | "mix"} Mode */
/** @typedef {"A" | "B"} Side */

/**
 * @typedef {object} Gains
 * @property {Record<string, number>} lanes 1 for an audible lane, 0 for a silent one.
 * @property {number} master Scales the sum so it never passes full scale.
 */

export class Mix {
  /**
   * @param {string[]} lanes Every lane the preview holds, in channel order.
   */
  constructor(lanes) {
    this.lanes = [...lanes];
    /** @type {Mode} */
    this.mode = "ab";
    /** @type {{A: string, B: string}} */
    this.pair = { A: "original", B: "foreground" };
    /** @type {Side} */
    this.side = "A";
    /** @type {Set<string>} */
    this.solo = new Set();
    // A mix starts as the stems, which add up to the original: the original and the
    // residual are muted until asked for.
    /** @type {Set<string>} */
    this.mute = new Set(["original", "residual"]);
  }

  /** The lane the A/B switch sounds now. */
  get current() {
    return this.pair[this.side];
  }

  /**
   * Lanes heard now, among those shown.
   * @param {Iterable<string>} shown
   * @returns {Set<string>}
   */
  audible(shown) {
    const visible = new Set(shown);
    if (this.mode === "ab") return new Set(visible.has(this.current) ? [this.current] : []);
    const pool = [...visible];
    const soloed = pool.filter((l) => this.solo.has(l));
    return new Set(soloed.length ? soloed : pool.filter((l) => !this.mute.has(l)));
  }

  /**
   * Per-lane gains and the master gain for the lanes heard now.
   * @param {Iterable<string>} shown
   * @param {number[]} headroom Gain by lane bit mask (bit k = lane k of `lanes`).
   * @returns {Gains}
   */
  gains(shown, headroom) {
    const heard = this.audible(shown);
    /** @type {Record<string, number>} */
    const lanes = {};
    let mask = 0;
    this.lanes.forEach((lane, k) => {
      lanes[lane] = heard.has(lane) ? 1 : 0;
      if (heard.has(lane)) mask |= 1 << k;
    });
    const safe = headroom[mask];
    // Without a table, assume the worst: every heard lane at full scale at once.
    const master = typeof safe === "number" ? safe : 1 / Math.max(1, heard.size);
    return { lanes, master };
  }

  /** The A/B switch: the other side. Leaves a mix for A/B first. */
  toggleSide() {
    if (this.mode !== "ab") this.mode = "ab";
    else this.side = this.side === "A" ? "B" : "A";
  }

  /** @param {Mode} mode */
  setMode(mode) {
    this.mode = mode;
  }

  /**
   * Which lane a side of the switch sounds.
   * @param {Side} side
   * @param {string} lane
   */
  setPair(side, lane) {
    if (this.lanes.includes(lane)) this.pair[side] = lane;
  }

  /** @param {string} lane */
  toggleSolo(lane) {
    if (!this.solo.delete(lane)) this.solo.add(lane);
  }

  /** @param {string} lane */
  toggleMute(lane) {
    if (!this.mute.delete(lane)) this.mute.add(lane);
  }

  /**
   * Hear this lane alone (a mix with only it soloed).
   * @param {string} lane
   */
  soloOnly(lane) {
    this.mode = "mix";
    this.solo = new Set([lane]);
  }
}
