// @ts-check
// The words (clip states, lane names, accepted formats) come from Python in the `vocabulary`
// trait; nothing here keeps a copy of its own.

/** @typedef {import("./types.js").VocabularyTrait} VocabularyTrait */

/**
 * @typedef {object} Vocab
 * @property {string[]} lanes Lane names in display order.
 * @property {string} formats Accepted formats, in words.
 * @property {(name: string) => string} laneLabel
 * @property {(state: string) => string} stateLabel
 * @property {(state: string) => boolean} active Work is under way (progress, Cancel).
 * @property {(state: string) => boolean} timed The card shows elapsed time.
 * @property {(link: string) => string} notice What the widget says when its kernel is gone.
 */

/**
 * @param {VocabularyTrait | null | undefined} v
 * @returns {Vocab}
 */
export function makeVocab(v) {
  const states = (v && v.states) || {};
  const labels = (v && v.lane_labels) || {};
  const notices = (v && v.notices) || {};
  return {
    lanes: (v && v.lanes) || [],
    formats: (v && v.formats) || "",
    laneLabel: (name) => labels[name] || name,
    stateLabel: (state) => states[state]?.label || state,
    active: (state) => Boolean(states[state]?.active),
    timed: (state) => Boolean(states[state]?.timed),
    notice: (link) => notices[link] || "",
  };
}
