/* The review metrics' calibration plot: per group (all verdicts, each active model), the mean
 * fake probability of each score bin against the share of confirmed fakes in it, with the
 * diagonal a calibrated detector would follow. The canvas gets data-drawn="true" once drawn.
 */
(function () {
  "use strict";

  var source = document.getElementById("calibration-data");
  var canvas = document.getElementById("calibration-chart");
  if (!source || !canvas || !window.Chart) return;
  var groups = JSON.parse(source.textContent) || [];
  var colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

  var datasets = groups.map(function (group, index) {
    return {
      label: group.name,
      data: group.points,
      showLine: true,
      borderColor: colours[index % colours.length],
      backgroundColor: colours[index % colours.length],
      // Bigger points for bins holding more analyses.
      pointRadius: group.points.map(function (p) { return 3 + Math.min(p.count, 12) / 2; })
    };
  });
  datasets.push({
    label: "perfectly calibrated",
    data: [{ x: 0, y: 0 }, { x: 1, y: 1 }],
    showLine: true,
    borderDash: [6, 4],
    borderColor: "#999",
    pointRadius: 0
  });

  var axis = function (title) {
    return { type: "linear", min: 0, max: 1, title: { display: true, text: title } };
  };
  new Chart(canvas, {
    type: "scatter",
    data: { datasets: datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: axis("mean fake probability"), y: axis("share confirmed fake") },
      plugins: {
        tooltip: {
          callbacks: {
            label: function (item) {
              var p = item.raw;
              var n = p.count === undefined ? "" : " (" + p.count + " analyses)";
              return item.dataset.label + ": " + p.x.toFixed(2) + " → " + p.y.toFixed(2) + n;
            }
          }
        }
      }
    }
  });
  canvas.setAttribute("data-drawn", "true");
})();
