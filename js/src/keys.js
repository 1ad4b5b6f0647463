// @ts-check
// The keyboard map of a player: which key does what. Pure, so it is unit-tested, and the help
// list shown in the player comes from the same table.

/**
 * @typedef {object} KeyLike
 * @property {string} key
 * @property {boolean} [shiftKey]
 * @property {boolean} [ctrlKey]
 * @property {boolean} [metaKey]
 * @property {boolean} [altKey]
 */

/**
 * @typedef {{type: "toggle-play"} | {type: "seek-by", seconds: number}
 *   | {type: "seek-to", where: "start" | "end"} | {type: "ab-switch"} | {type: "mix-toggle"}
 *   | {type: "solo-focused"} | {type: "mute-focused"} | {type: "solo-lane", index: number}
 *   | {type: "zoom", factor: number} | {type: "fit"} | {type: "pan", pages: number}
 *   | {type: "loop-toggle"}
 * } KeyAction
 */

/** What the help list says, one line per key. */
export const KEY_HELP = [
  ["Space", "play / pause"],
  ["← →", "seek 2 s (with Shift: 10 s)"],
  ["Home End", "start / end"],
  ["B", "A/B switch: hear the other lane"],
  ["X", "Mix on/off (solo and mute work in Mix)"],
  ["S M", "solo / mute the focused lane"],
  ["1–4", "hear lane 1–4 alone"],
  ["+ −", "zoom in / out (also Ctrl + wheel or pinch over a lane)"],
  ["0", "fit the whole clip"],
  ["[ ]", "pan left / right (also drag a zoomed lane)"],
  ["Shift + drag", "select a span"],
  ["L", "loop the selected span on / off"],
];

/**
 * What a key pressed inside a player does; null for keys the player leaves alone.
 * @param {KeyLike} e
 * @returns {KeyAction | null}
 */
export function playerKeyAction(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return null; // leave browser and notebook shortcuts
  const step = e.shiftKey ? 10 : 2;
  switch (e.key) {
    case "ArrowRight":
      return { type: "seek-by", seconds: step };
    case "ArrowLeft":
      return { type: "seek-by", seconds: -step };
    case " ":
      return { type: "toggle-play" };
    case "Home":
      return { type: "seek-to", where: "start" };
    case "End":
      return { type: "seek-to", where: "end" };
    case "b":
    case "B":
      return { type: "ab-switch" };
    case "x":
    case "X":
      return { type: "mix-toggle" };
    case "s":
    case "S":
      return { type: "solo-focused" };
    case "m":
    case "M":
      return { type: "mute-focused" };
    case "+":
    case "=":
      return { type: "zoom", factor: 2 };
    case "-":
    case "_":
      return { type: "zoom", factor: 0.5 };
    case "0":
      return { type: "fit" };
    case "[":
      return { type: "pan", pages: -0.5 };
    case "]":
      return { type: "pan", pages: 0.5 };
    case "l":
    case "L":
      return { type: "loop-toggle" };
    default:
      if (/^[1-4]$/.test(e.key)) return { type: "solo-lane", index: Number(e.key) - 1 };
      return null;
  }
}

/**
 * Whether a key belongs to the element that has focus rather than to the player: typing in a
 * field, choosing in a list, or Space/Enter on a button (which press it).
 * @param {KeyLike} e
 * @param {{tagName: string, getAttribute?: (name: string) => string | null} | null} target
 */
export function keyBelongsToTarget(e, target) {
  if (!target) return false;
  const tag = target.tagName.toUpperCase();
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "BUTTON" || tag === "SUMMARY") return e.key === " " || e.key === "Enter";
  return false;
}
