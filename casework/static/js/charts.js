// Dashboard charts: each <canvas data-chart="KEY"> is drawn from the JSON in
// <script type="application/json" id="chart-data-KEY"> beside it (no inline script, so
// the Content-Security-Policy stays strict). The same figures are in the table below it.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") return;

  const LABEL_CHARS = 12;
  const COLOURS = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d"];
  const fontFamily = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.font.family = fontFamily;
  window.Chart.defaults.font.size = 13;

  function datasets(spec) {
    return spec.datasets.map((d, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const line = (d.type || spec.type) === "line";
      return {
        label: d.label,
        data: d.data,
        type: d.type || undefined,
        stack: spec.stacked ? d.stack || "all" : undefined,
        borderColor: colour,
        backgroundColor: line ? colour : colour + "cc",
        borderWidth: line ? 3 : 1,
        pointRadius: line ? 4 : 0,
        spanGaps: true,
        tension: 0,
        maxBarThickness: 36,
      };
    });
  }

  function draw(canvas) {
    const source = document.getElementById("chart-data-" + canvas.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    const valueAxis = spec.horizontal ? "x" : "y";
    const categoryAxis = spec.horizontal ? "y" : "x";
    const scales = { x: { stacked: spec.stacked }, y: { stacked: spec.stacked } };
    // Long names (key tasks, coverage rules) are cut on the axis; the table has them whole.
    scales[categoryAxis].ticks = {
      callback: function (value) {
        const label = String(this.getLabelForValue(value));
        return label.length > LABEL_CHARS ? label.slice(0, LABEL_CHARS - 1) + "…" : label;
      },
    };
    scales[valueAxis].beginAtZero = true;
    scales[valueAxis].ticks = { precision: 0 };
    if (spec.percent) {
      scales[valueAxis].max = 100;
      scales[valueAxis].ticks.callback = (value) => value + "%";
    }
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets(spec) },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: {
          legend: { display: spec.datasets.length > 1, position: "bottom",
                    labels: { boxWidth: 14, padding: 12 } },
        },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
