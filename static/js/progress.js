/* Live progress without page reloads.
 * 1. The upload form sends the file with XMLHttpRequest to show how much has been sent;
 *    without XHR/FormData (or if the request fails to start) the form posts normally.
 * 2. The analysis page polls its small JSON status endpoint, moves the bar and the stage,
 *    and reloads once the analysis is finished to show the result.
 */
(function () {
  "use strict";

  function setBar(container, percent) {
    var bar = container.querySelector(".progress-bar");
    var meter = container.querySelector(".progress");
    if (bar) bar.style.width = percent + "%";
    if (meter) meter.setAttribute("aria-valuenow", String(percent));
  }

  function watchUpload(form) {
    var box = document.getElementById("upload-progress");
    var text = box.querySelector("[data-upload-text]");
    var button = form.querySelector("button[type=submit]");
    var sent = false;

    form.addEventListener("submit", function (event) {
      if (sent) return; // a fallback submit goes through as a normal POST
      event.preventDefault();
      sent = true;
      box.hidden = false;
      button.disabled = true;

      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round((100 * e.loaded) / e.total);
        setBar(box, percent);
        text.textContent = "Uploading… " + percent + "%";
      });
      xhr.upload.addEventListener("load", function () {
        setBar(box, 100);
        text.textContent = "Checking the file…";
      });
      xhr.addEventListener("load", function () {
        var here = new URL(form.action, window.location.href).href;
        if (xhr.responseURL && xhr.responseURL !== here) {
          window.location.assign(xhr.responseURL); // followed a redirect: go there
          return;
        }
        // A page about this upload (errors, or "already analysed"): show it as a POST would.
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () {
        text.textContent = "Uploading without progress…";
        form.submit();
      });
      xhr.send(new FormData(form));
    });
  }

  function watchAnalysis(section) {
    var url = section.getAttribute("data-status-url");
    var stage = section.querySelector("[data-stage]");
    var progress = section.querySelector("[data-progress]");
    var label = document.querySelector("[data-status-label]");
    var delay = 1500;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (data) {
          delay = 1500;
          setBar(section, data.progress);
          progress.textContent = data.progress;
          stage.textContent = data.stage || "Waiting in the queue";
          if (label) {
            label.textContent = data.status_display;
            label.className = "badge status-" + data.status;
          }
          if (data.finished) {
            window.location.reload();
          } else {
            window.setTimeout(poll, delay);
          }
        })
        .catch(function () {
          delay = Math.min(delay * 2, 30000); // back off while the server is unreachable
          window.setTimeout(poll, delay);
        });
    }
    window.setTimeout(poll, delay);
  }

  var form = document.getElementById("upload-form");
  if (form && window.FormData && window.XMLHttpRequest && window.URL) watchUpload(form);
  var live = document.getElementById("live-status");
  if (live && window.fetch) watchAnalysis(live);
})();
