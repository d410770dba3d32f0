// Bulletin pages: the chart of rates per 10,000 visits and the print button.
// The data comes from the page (data-chart, JSON); nothing is inline under the CSP.

document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});

document.querySelectorAll(".bulletin-chart[data-chart]").forEach((box) => {
  if (typeof window.Chart === "undefined") return;
  const data = JSON.parse(box.dataset.chart);
  const canvas = box.querySelector("canvas");
  // One bar per institution, at a height a finger can point at.
  box.style.height = `${Math.max(160, data.labels.length * 36 + 60)}px`;
  const over = "rgba(176, 42, 55, 0.85)";
  const under = "rgba(13, 110, 253, 0.75)";
  const datasets = [{
    label: data.label,
    data: data.rates,
    backgroundColor: data.interview.map((flag) => (flag ? over : under)),
    borderWidth: 0,
  }];
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets },
    options: {
      indexAxis: "y",
      animation: false,
      maintainAspectRatio: false,
      responsive: true,
      plugins: {
        legend: { display: false },
        title: {
          display: data.threshold !== null,
          text: data.threshold !== null ? `${data.threshold_label}: ${data.threshold}` : "",
        },
      },
      scales: {
        x: {
          beginAtZero: true,
          suggestedMax: data.threshold !== null ? data.threshold : undefined,
        },
      },
    },
  });
});
