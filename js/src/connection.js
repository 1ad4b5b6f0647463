// @ts-check
// Is there a kernel behind this view? A restarted kernel leaves the old view on the page with
// a dead comm: sending throws "Cannot send", and nothing would ever answer. A notebook reopened
// with saved widget state shows views of models that never had a kernel. Both must say so and
// disable what needs the kernel, instead of failing silently.

/** @typedef {"live" | "lost" | "static"} Link */

export class Connection {
  /**
   * @param {import("./types.js").AnyModel} model
   * @param {(link: Link) => void} onChange
   */
  constructor(model, onChange) {
    this.model = model;
    this.onChange = onChange;
    /** @type {Link} */
    this.link = "live";
    /** @type {any} */
    this.real = null;
    this.onLive = () => {
      if (this.real && this.real.comm_live === false) this.set("lost");
    };
  }

  /**
   * Find the widget manager's model behind anywidget's proxy (by the id Python syncs in
   * `model_ref`) and follow its `comm_live` flag, which Jupyter's widget managers clear when
   * the kernel restarts. Where there is no such manager (other hosts) the link stays live
   * and a failed send is what tells.
   * @returns {Promise<any>} the manager's model, or null
   */
  async watch() {
    const manager = /** @type {any} */ (this.model).widget_manager;
    const ref = this.model.get("model_ref");
    if (!manager || typeof manager.get_model !== "function" || !ref) return null;
    try {
      this.real = await manager.get_model(ref);
    } catch {
      return null;
    }
    if (!this.real || typeof this.real.on !== "function") return null;
    if (this.real.comm_live === false) this.set("static"); // restored from the saved notebook
    this.real.on("comm_live_update", this.onLive);
    return this.real;
  }

  /** @param {Link} link */
  set(link) {
    if (this.link === link || this.link === "lost") return;
    this.link = link;
    this.onChange(link);
  }

  get live() {
    return this.link === "live";
  }

  /**
   * Send to the kernel; false (never an exception) when there is none to send to.
   * @param {object} content
   * @param {ArrayBuffer[]} [buffers]
   */
  send(content, buffers) {
    if (!this.live) return false;
    try {
      this.model.send(content, undefined, buffers);
      return true;
    } catch (err) {
      this.set("lost"); // "Cannot send": the comm is gone with its kernel
      return false;
    }
  }

  close() {
    this.real?.off?.("comm_live_update", this.onLive);
  }
}
