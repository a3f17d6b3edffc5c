// plot — a simple chart of one y column against one x column, drawn with
// uPlot (from npm, embedded like our own files and loaded only when a chart
// is first drawn). Text x values become bars over evenly spaced categories;
// numbers and dates become a line. When the library cannot be loaded the
// caller shows a message and the page goes on without the chart.

let loading = null;

function load() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  loading ??= new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("./uplot.min.css", import.meta.url).href;
    document.head.append(css);
    const s = document.createElement("script");
    s.src = new URL("./uplot.min.js", import.meta.url).href;
    s.onload = () => (window.uPlot ? resolve(window.uPlot) : reject(new Error("uPlot did not load")));
    s.onerror = () => reject(new Error("uPlot could not be loaded"));
    document.head.append(s);
  }).catch((e) => {
    loading = null; // try again next time
    throw e;
  });
  return loading;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** "number", "date" or "text": how a column's non-empty values read. */
export function kindOf(values) {
  let kind = null;
  for (const v of values) {
    if (v === null || v === undefined || v === "") continue;
    const k = typeof v === "number" ? "number" : typeof v === "string" && DATE_RE.test(v) ? "date" : "text";
    if (kind && kind !== k) return "text";
    kind = k;
  }
  return kind || "text";
}

const toTime = (s) => {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  return d.getTime() / 1000;
};

let chart = null;
let resizeHooked = false;

/**
 * Draw into el: xs and ys are the two columns' values, xLabel and yLabel their
 * names, fmt formats numbers for the axis. Replaces any chart drawn before.
 */
export async function draw(el, { xs, ys, xLabel, yLabel, fmt }) {
  const uPlot = await load();
  chart?.destroy();
  chart = null;
  el.replaceChildren();
  const kind = kindOf(xs);
  let xdata, ydata, labels = null;
  if (kind === "text") {
    labels = xs.map((v) => (v === null || v === undefined ? "" : String(v)));
    xdata = labels.map((_, i) => i);
    ydata = ys.map((v) => (typeof v === "number" ? v : null));
  } else {
    const pts = xs.map((x, i) => [kind === "date" ? toTime(x) : x, ys[i]])
      .filter(([x, y]) => typeof x === "number" && Number.isFinite(x) && typeof y === "number")
      .sort((a, b) => a[0] - b[0]);
    xdata = pts.map((p) => p[0]);
    ydata = pts.map((p) => p[1]);
  }
  const width = Math.max(280, el.clientWidth || 600);
  const series = { label: yLabel, stroke: "#0b5cad", width: 2, fill: labels ? "rgba(11,92,173,0.55)" : "rgba(11,92,173,0.08)", points: { show: xdata.length <= 60 } };
  if (labels) series.paths = uPlot.paths.bars({ size: [0.7, 80] });
  const opts = {
    width,
    height: 320,
    scales: {
      x: labels ? { time: false, range: [-0.5, labels.length - 0.5] } : { time: kind === "date" },
      // bars start at zero, so their heights compare honestly
      y: labels ? { range: (u, min, max) => uPlot.rangeNum(Math.min(0, min ?? 0), Math.max(0, max ?? 0), 0.1, true) } : {},
    },
    axes: [
      labels
        ? { label: xLabel, values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? labels[i] ?? "" : "")), space: 40, gap: 4, rotate: 0 }
        : { label: xLabel },
      { label: yLabel, values: (u, splits) => splits.map((v) => fmt(v)), size: 70 },
    ],
    series: [{ label: xLabel, value: labels ? (u, i) => labels[i] ?? "" : undefined }, series],
    legend: { show: true },
    cursor: { drag: { x: !labels, y: false } },
  };
  if (!opts.series[0].value) delete opts.series[0].value;
  if (kind === "date") opts.tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); // dates are UTC days
  chart = new uPlot(opts, [xdata, ydata], el);
  if (!resizeHooked) {
    resizeHooked = true;
    let timer;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => chart && el.isConnected && chart.setSize({ width: Math.max(280, el.clientWidth), height: 320 }), 150);
    });
  }
  return chart;
}

export function clear(el) {
  chart?.destroy();
  chart = null;
  el.replaceChildren();
}
