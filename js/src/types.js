// @ts-check
// Shapes shared by the modules (JSDoc only: nothing here runs).

/**
 * The part of anywidget's model the front end uses.
 * @typedef {object} AnyModel
 * @property {(name: string) => any} get
 * @property {(name: string, value: any) => void} set
 * @property {(name: string, cb: (...args: any[]) => void) => void} on
 * @property {(name: string, cb: (...args: any[]) => void) => void} off
 * @property {(content: object, callbacks?: any, buffers?: ArrayBuffer[]) => void} send
 * @property {() => void} [save_changes]
 */

/**
 * One clip's small state, as Python's `Clip.to_state()` sends it.
 * @typedef {object} ClipState
 * @property {string} id
 * @property {string} name
 * @property {number} size
 * @property {string} source
 * @property {string} state
 * @property {number | null} progress
 * @property {string} [detail] What the badge says instead of the state's name.
 * @property {string} message
 * @property {string} hint
 * @property {string} [action] For failed cards: "retry", "choose-file" or "none".
 * @property {number} elapsed
 * @property {Record<string, any>} facts
 * @property {string[]} lanes
 * @property {Record<string, number>} levels
 * @property {number} attempt
 * @property {string} [group] A run of a card of several: the card's id.
 * @property {string} [run] That run's name (its method or service).
 */

/**
 * The `vocabulary` trait: words decided in Python.
 * @typedef {object} VocabularyTrait
 * @property {Record<string, {label: string, active: boolean, timed: boolean}>} [states]
 * @property {string[]} [lanes]
 * @property {Record<string, string>} [lane_labels]
 * @property {string} [formats]
 * @property {Record<string, string>} [notices] By link state: "lost", "static".
 */

export {};
