/* Charts of a finished analysis, drawn from the Report JSON embedded in the page.
 * - timeline: fake probability of each sampled frame, and each whole-image detector's
 *   P(generated) of its frames; clicking a point seeks the video there;
 * - blinks: eye aspect ratio over time, the blink threshold, and the counted blinks; one chart
 *   per person over the whole clip's time axis (older reports: one chart for the main face).
 * Each canvas gets data-drawn="true" once its chart exists (the browser tests look for it).
 */
(function () {
  "use strict";

  var source = document.getElementById("report-data");
  if (!source || !window.Chart) return;
  var report = JSON.parse(source.textContent);
  if (!report) return;

  // Evidence is drawn at once: an entry animation shows points at wrong times while it runs,
  // and a print or screenshot taken then would keep them there.
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function points(series) {
    return (series || []).map(function (pair) { return { x: pair[0], y: pair[1] }; });
  }

  function secondsAxis(max) {
    var axis = { type: "linear", title: { display: true, text: "time (s)" } };
    if (max) { axis.min = 0; axis.max = max; }
    return axis;
  }

  function markDrawn(canvas) {
    canvas.setAttribute("data-drawn", "true");
  }

  function pageVideo() {
    return document.querySelector(".media-preview video") || document.querySelector("video");
  }

  function generatedDatasets() {
    var found = report.media_type === "video" && report.generated ? report.generated.detectors : [];
    return found.map(function (detector) {
      return {
        label: "P(generated), " + (detector.label || detector.name),
        data: detector.frames.map(function (f) { return { x: f.time_s, y: f.score }; }),
        borderColor: "#6941c6",
        backgroundColor: "#6941c6",
        borderDash: [6, 4],
        pointRadius: 3,
        pointHoverRadius: 6,
      };
    });
  }

  function drawTimeline(canvas) {
    var datasets = report.frame_scores && report.frame_scores.length ? [{
      label: "fake probability",
      data: points(report.frame_scores),
      borderColor: "#b42318",
      backgroundColor: "#b42318",
      pointRadius: 3,
      pointHoverRadius: 6,
      tension: 0.2,
    }] : [];
    datasets = datasets.concat(generatedDatasets());
    var chart = new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        parsing: false,
        scales: { x: secondsAxis(), y: { min: 0, max: 1, title: { display: true, text: datasets.length > 1 ? "probability" : "P(fake)" } } },
        plugins: { legend: { display: datasets.length > 1 } },
        onClick: function (event, elements) {
          var video = pageVideo();
          if (!video || !elements.length) return;
          var point = chart.data.datasets[elements[0].datasetIndex].data[elements[0].index];
          video.currentTime = point.x;
          video.play().catch(function () { /* autoplay refused: the seek still happened */ });
        },
        onHover: function (event, elements) {
          canvas.style.cursor = elements.length && pageVideo() ? "pointer" : "default";
        },
      },
    });
    markDrawn(canvas);
    return chart;
  }

  function nearestEar(series, t) {
    var best = null;
    series.forEach(function (p) {
      if (p.y === null || Number.isNaN(p.y)) return;
      if (!best || Math.abs(p.x - t) < Math.abs(best.x - t)) best = p;
    });
    return best ? best.y : 0;
  }

  // Points more than this far apart are not joined: the face was not seen in between.
  var EAR_GAP_S = 0.5;

  function withGaps(ears) {
    var result = [];
    ears.forEach(function (p, i) {
      if (i && p.x - ears[i - 1].x > EAR_GAP_S) result.push({ x: (p.x + ears[i - 1].x) / 2, y: null });
      result.push(p);
    });
    return result;
  }

  function drawBlinks(canvas, blink, clipSeconds) {
    var ears = withGaps(points(blink.ear_series));
    var datasets = [{
      label: "eye aspect ratio",
      data: ears,
      borderColor: "#2457c5",
      pointRadius: 0,
      spanGaps: false,
    }, {
      label: "blinks",
      type: "scatter",
      data: (blink.timestamps_s || []).map(function (t) { return { x: t, y: nearestEar(ears, t) }; }),
      backgroundColor: "#a15c00",
      pointRadius: 6,
      pointStyle: "triangle",
    }];
    if (blink.threshold !== null && blink.threshold !== undefined && ears.length) {
      datasets.push({
        label: "blink threshold",
        data: [{ x: ears[0].x, y: blink.threshold }, { x: ears[ears.length - 1].x, y: blink.threshold }],
        borderColor: "#5b6475",
        borderDash: [6, 4],
        pointRadius: 0,
      });
    }
    new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        parsing: false,
        scales: { x: secondsAxis(clipSeconds), y: { min: 0, suggestedMax: 0.45, title: { display: true, text: "EAR" } } },
      },
    });
    markDrawn(canvas);
  }

  var timeline = document.getElementById("timeline-chart");
  var generatedFrames = generatedDatasets().length;
  if (timeline && ((report.frame_scores && report.frame_scores.length) || generatedFrames)) drawTimeline(timeline);
  var blinks = document.getElementById("blink-chart");
  if (blinks && report.blink && report.blink.ear_series && report.blink.ear_series.length) drawBlinks(blinks, report.blink);
  (report.faces || []).forEach(function (face) {
    var canvas = document.getElementById("blink-chart-" + face.track_id);
    if (canvas && face.blink && face.blink.ear_series && face.blink.ear_series.length) {
      drawBlinks(canvas, face.blink, report.duration_s);
    }
  });
})();
