// @ts-check
// The keyboard map of a player: which key does what. Pure, so it is unit-tested and listed
// in the help text from one table.

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
 *   | {type: "seek-to", where: "start" | "end"}} KeyAction
 */

/**
 * What a key pressed on a focused lane does; null for keys the player leaves alone.
 * @param {KeyLike} e
 * @returns {KeyAction | null}
 */
export function laneKeyAction(e) {
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
    default:
      return null;
  }
}
