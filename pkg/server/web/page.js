(function () {
  "use strict";
  // The bearer token lives in this closure only: never in storage or the URL.
  var token = "";
  var $ = function (id) { return document.getElementById(id); };
  var form = $("form"), files = $("files"), drop = $("drop"), picked = $("picked");
  var status = $("status"), results = $("results"), go = $("go");
  var dropped = null; // files dropped on the zone (an input's FileList cannot be set from a drop everywhere)

  function chosen() { return dropped || Array.prototype.slice.call(files.files); }
  function listPicked() {
    picked.textContent = "";
    chosen().forEach(function (f) {
      var li = document.createElement("li");
      li.textContent = f.name + " (" + Math.round(f.size / 1024) + " kB)";
      picked.appendChild(li);
    });
  }
  files.addEventListener("change", function () { dropped = null; listPicked(); });
  ["dragenter", "dragover"].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    drop.addEventListener(t, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    e.preventDefault();
    dropped = Array.prototype.slice.call(e.dataTransfer.files).filter(function (f) { return /^image\//.test(f.type) || f.type === ""; });
    listPicked();
  });

  function lines(v) { return v.split("\n").map(function (s) { return s.trim(); }).filter(Boolean); }
  function say(msg, isError) {
    status.textContent = msg;
    status.className = "status" + (isError ? " error" : "");
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function card(rec, preview) {
    var c = el("article", "card");
    if (preview) {
      var img = el("img");
      img.src = preview;
      img.alt = rec.file;
      c.appendChild(img);
    }
    c.appendChild(el("h2", "", rec.file));
    if (rec.error) {
      c.appendChild(el("p", "error", rec.error));
      return c;
    }
    c.appendChild(el("p", "best", rec.label + " " + (100 * rec.probability).toFixed(1) + "%"));
    var ol = el("ol", "scores");
    (rec.labels || []).forEach(function (s) {
      var li = el("li");
      var pct = (100 * s.probability).toFixed(1) + "%";
      li.appendChild(el("span", "l", s.label));
      li.appendChild(el("span", "p", pct));
      var bar = el("span", "bar"), fill = el("span");
      fill.style.width = (100 * s.probability).toFixed(1) + "%";
      bar.appendChild(fill);
      bar.setAttribute("role", "img");
      bar.setAttribute("aria-label", s.label + " " + pct);
      li.appendChild(bar);
      ol.appendChild(li);
    });
    c.appendChild(ol);
    return c;
  }

  // send posts one request and returns the parsed body, or throws the API's
  // error as it came ("413 payload_too_large: …").
  function send(body, contentType) {
    var headers = {};
    if (contentType) { headers["Content-Type"] = contentType; }
    if (token) { headers.Authorization = "Bearer " + token; }
    return fetch("/v1/classify", { method: "POST", body: body, headers: headers, credentials: "omit" }).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (e) { /* not JSON: shown as text */ }
        if (resp.ok && data) { return data; }
        var err = new Error(resp.status + " " + (data && data.error ? data.error.code + ": " + data.error.message : (resp.statusText + " " + text).trim()));
        err.status = resp.status;
        if (resp.headers.get("Retry-After")) { err.message += " (retry after " + resp.headers.get("Retry-After") + " s)"; }
        throw err;
      });
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var labels = $("labels").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    var templates = lines($("templates").value);
    var imgs = chosen(), urls = lines($("urls").value);
    if (!$("auth").hidden) { token = $("token").value; }
    if (labels.length === 0) { say("Give at least one label.", true); $("labels").focus(); return; }
    if (imgs.length === 0 && urls.length === 0) { say("Pick or drop an image, or give an image URL.", true); files.focus(); return; }
    var jobs = [];
    if (imgs.length) {
      var fd = new FormData();
      imgs.forEach(function (f) { fd.append("image", f, f.name); });
      fd.append("labels", labels.join(","));
      templates.forEach(function (t) { fd.append("template", t); });
      jobs.push(send(fd).then(function (d) { return { data: d, previews: imgs }; }));
    }
    if (urls.length) {
      var body = JSON.stringify({ images: urls.map(function (u) { return { url: u }; }), labels: labels, templates: templates.length ? templates : undefined });
      jobs.push(send(body, "application/json").then(function (d) { return { data: d, previews: [] }; }));
    }
    go.disabled = true;
    say("Classifying…");
    results.textContent = "";
    Promise.all(jobs).then(function (done) {
      var n = 0;
      done.forEach(function (d) {
        d.data.results.forEach(function (rec, i) {
          var f = d.previews[i];
          results.appendChild(card(rec, f && !rec.error ? URL.createObjectURL(f) : null)); // an unreadable file has no preview either
          n++;
        });
      });
      say(n + (n === 1 ? " image" : " images") + " classified by " + (done[0].data.model && done[0].data.model.id || "the server") + ".");
    }).catch(function (err) {
      say(err.message, true);
      if (err.status === 401) {
        $("auth").hidden = false;
        $("token").focus();
      }
    }).then(function () { go.disabled = false; });
  });
})();
