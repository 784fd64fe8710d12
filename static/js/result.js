/* Charts of a finished analysis, drawn from the Report JSON embedded in the page.
 * - timeline: fake probability of each sampled frame, one series per judged person, and each
 *   whole-image detector's P(generated) of its frames; clicking a point seeks the video there
 *   and scrolls it into view;
 * - blinks: eye aspect ratio over time, the blink threshold, and the counted blinks (marked on
 *   their dips); one chart
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

  var SERIES_COLOURS = ["#b42318", "#2457c5", "#1d7a45", "#a15c00", "#6b3fa0", "#0f766e"];

  // One series per judged person, named as in the gallery, the deciding person first; reports
  // made before each person's times were kept plot the deciding person only.
  function timelineSeries() {
    var decisive = report.decisive_face;
    var series = [];
    (report.faces || []).forEach(function (face) {
      var times = face.score_times_s || [];
      if (face.judged === false || !times.length || times.length !== (face.frame_scores || []).length) return;
      series.push({
        id: face.track_id,
        name: "Face " + face.track_id + (face.track_id === decisive ? " (decided the verdict)" : ""),
        data: times.map(function (t, i) { return { x: t, y: face.frame_scores[i] }; }),
      });
    });
    series.sort(function (a, b) { return (b.id === decisive) - (a.id === decisive); });
    if (!series.length && report.frame_scores && report.frame_scores.length) {
      series.push({ id: decisive, name: decisive ? "Face " + decisive + " (decided the verdict)" : "fake probability", data: points(report.frame_scores) });
    }
    return series;
  }

  function drawTimeline(canvas) {
    var series = timelineSeries();
    var chart = new Chart(canvas, {
      type: "line",
      data: {
        datasets: series.map(function (one, i) {
          var colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
          return {
            label: one.name,
            data: one.data,
            borderColor: colour,
            backgroundColor: colour,
            pointRadius: 3,
            pointHoverRadius: 6,
            tension: 0.2,
          };
        }).concat(generatedDatasets()),
      },
      options: {
        parsing: false,
        scales: { x: secondsAxis(), y: { min: 0, max: 1, title: { display: true, text: "probability" } } },
        plugins: { legend: { display: true, position: "bottom" } },
        onClick: function (event, elements) {
          var video = pageVideo();
          if (!video || !elements.length) return;
          var hit = elements[0];
          var point = chart.data.datasets[hit.datasetIndex].data[hit.index];
          video.currentTime = point.x;
          // The player may be far above the chart: bring it into view to watch the moment.
          video.scrollIntoView({ behavior: "smooth", block: "center" });
          video.play().catch(function () { /* autoplay refused: the seek still happened */ });
        },
        onHover: function (event, elements) {
          canvas.style.cursor = elements.length && pageVideo() ? "pointer" : "default";
        },
      },
    });
    canvas.setAttribute("data-series", series.map(function (one) { return one.name; }).join("|"));
    markDrawn(canvas);
    return chart;
  }

  // A blink's marker sits on its dip: the lowest eye-openness within DIP_WINDOW_S of the
  // blink's time (the displayed series is down-sampled, so the nearest point may miss it).
  var DIP_WINDOW_S = 0.3;

  function dipOf(series, t) {
    var best = null;
    series.forEach(function (p) {
      if (p.y === null || Number.isNaN(p.y) || Math.abs(p.x - t) > DIP_WINDOW_S) return;
      if (!best || p.y < best.y) best = p;
    });
    return best ? { x: best.x, y: best.y } : { x: t, y: 0 };
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
      data: (blink.timestamps_s || []).map(function (t) { return dipOf(ears, t); }),
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
