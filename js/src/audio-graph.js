// @ts-check
// One clock for every lane: the clip's preview is one multichannel file played by one media
// element, split into lanes in Web Audio. Each lane has a gain (A/B and solo/mute are gain
// changes, so switching is gapless and sample-aligned); their sum goes through a master gain
// (the headroom the kernel computed for the lanes heard) and a soft limit that holds the
// output under full scale whatever happens.

/** Seconds for a gain to settle: fast enough to feel instant, slow enough not to click. */
const GAIN_TIME = 0.004;
/** Output above this is bent smoothly towards, never past, full scale. */
const KNEE = 0.9;

/** @type {AudioContext | null} */
let shared = null;

/** The page's one AudioContext (browsers limit how many a page may have). */
export function audioContext() {
  if (!shared || shared.state === "closed") shared = new AudioContext();
  return shared;
}

/**
 * Identity below KNEE, then a tanh curve that reaches at most (1 + KNEE) / 2 + … < 1.
 * @param {number} n points
 */
export function softLimitCurve(n = 4097) {
  const curve = new Float32Array(n);
  const room = 1 - KNEE;
  for (let i = 0; i < n; i++) {
    const x = (i / (n - 1)) * 2 - 1;
    const a = Math.abs(x);
    const y = a <= KNEE ? a : KNEE + room * Math.tanh((a - KNEE) / room);
    curve[i] = Math.sign(x) * y;
  }
  return curve;
}

export class LaneGraph {
  /**
   * @param {AudioContext} ctx
   * @param {HTMLMediaElement} media Plays the preview (one file, every lane).
   * @param {string[]} lanes Lane names in channel order.
   * @param {number} perLane 1 (mono clip) or 2 channels per lane.
   */
  constructor(ctx, media, lanes, perLane) {
    this.ctx = ctx;
    this.lanes = lanes;
    this.source = ctx.createMediaElementSource(media);
    // A splitter interprets its input as discrete channels: no up- or down-mixing.
    this.splitter = ctx.createChannelSplitter(lanes.length * perLane);
    this.master = ctx.createGain();
    this.limit = ctx.createWaveShaper();
    this.limit.curve = softLimitCurve();
    /** @type {Map<string, GainNode>} */
    this.gains = new Map();
    this.source.connect(this.splitter);
    lanes.forEach((lane, k) => {
      const pair = ctx.createChannelMerger(2);
      const left = k * perLane;
      this.splitter.connect(pair, left, 0);
      this.splitter.connect(pair, left + perLane - 1, 1);
      const gain = ctx.createGain();
      gain.gain.value = 0;
      pair.connect(gain);
      gain.connect(this.master);
      this.gains.set(lane, gain);
    });
    this.master.connect(this.limit);
    this.limit.connect(ctx.destination);
  }

  /**
   * Set every lane's gain and the master gain (smoothly unless `now`).
   * @param {import("./mixer.js").Gains} gains
   * @param {boolean} [now]
   */
  apply(gains, now = false) {
    const at = this.ctx.currentTime;
    const set = (/** @type {AudioParam} */ param, /** @type {number} */ value) => {
      param.cancelScheduledValues(at);
      if (now) param.setValueAtTime(value, at);
      else param.setTargetAtTime(value, at, GAIN_TIME);
    };
    for (const [lane, node] of this.gains) set(node.gain, gains.lanes[lane] || 0);
    set(this.master.gain, gains.master);
  }

  disconnect() {
    for (const node of [this.source, this.splitter, this.master, this.limit, ...this.gains.values()]) {
      try {
        node.disconnect();
      } catch {
        // already disconnected
      }
    }
  }
}
