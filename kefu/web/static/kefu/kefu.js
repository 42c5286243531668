// Behaviour that would otherwise be inline (the Content-Security-Policy allows no inline script).
// <select data-autosubmit> submits its form when changed; <a data-back> goes back in history.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target && target.matches && target.matches("select[data-autosubmit]") && target.form) {
    target.form.submit();
  }
});
document.addEventListener("click", function (event) {
  var link = event.target && event.target.closest ? event.target.closest("a[data-back]") : null;
  if (link && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});
// An htmx request the server refused (a 4xx with a plain-text reason, e.g. a roster cell with an
// unknown shift): the reason appears in the page's message area, as text, never as HTML.
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail && event.detail.xhr;
  if (!xhr) { return; }
  var type = xhr.getResponseHeader("Content-Type") || "";
  var text = type.indexOf("text/plain") === 0 ? xhr.responseText : (document.body.dataset.errorText || "Error");
  var area = document.querySelector(".messages");
  if (!area) {
    area = document.createElement("div");
    area.className = "messages";
    var main = document.querySelector("main") || document.body;
    main.insertBefore(area, main.firstChild);
  }
  var note = document.createElement("div");
  note.className = "msg error";
  note.setAttribute("role", "alert");
  note.textContent = text;
  area.appendChild(note);
});
// Below 768 px the navigation is a menu: the ☰ button opens it, a click outside or Escape closes it.
document.addEventListener("click", function (event) {
  var toggle = event.target && event.target.closest ? event.target.closest("[data-menu]") : null;
  var body = document.body;
  if (toggle) {
    var open = !body.classList.contains("menu-open");
    body.classList.toggle("menu-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    return;
  }
  if (body.classList.contains("menu-open") && !(event.target.closest && event.target.closest(".sidebar"))) {
    body.classList.remove("menu-open");
  }
});
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape") { document.body.classList.remove("menu-open"); }
});
// Roster cells of past days ask before they change (the statement of a closed day moves with them);
// cancelling puts the old value back and nothing is sent.
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select || !select.matches || !select.matches("form.cell[data-past] select")) { return; }
  var question = document.body.dataset.pastConfirm || "Change a past day?";
  if (!window.confirm(question)) {
    event.stopImmediatePropagation();
    event.stopPropagation();
    select.value = select.dataset.value || "";
  }
}, true);
// "Export XLSX" beside a filter form: the download takes the filters as they are now (the form
// may have changed since the page was drawn).
document.addEventListener("click", function (event) {
  var link = event.target && event.target.closest ? event.target.closest("a[data-export]") : null;
  if (!link) { return; }
  var form = link.closest("form");
  if (!form) { return; }
  var params = new URLSearchParams(new FormData(form));
  params.delete("cursor");
  params.set("export", "xlsx");
  link.href = "?" + params.toString();
});

// Live desk (ADR 0012, 0018): an EventSource per page. A thread appends each new message; an inbox or
// board reloads its list through htmx. The browser resumes from the last event id on its own; when
// a reconnect is refused (a 503 during a database restart, a proxy's 502, a lapsed session), it
// closes the source for good, so the page opens a new one itself, backing off 2 s … 60 s.
(function () {
  function live(url, listeners) {
    var lastId = "", delay = 2000;
    function open() {
      var target = url;
      if (lastId) target += (url.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(lastId);
      var src = new EventSource(target);
      Object.keys(listeners).forEach(function (name) {
        src.addEventListener(name, function (e) {
          if (e.lastEventId) lastId = e.lastEventId;
          delay = 2000;
          listeners[name](e);
        });
      });
      src.onerror = function () {
        if (src.readyState !== EventSource.CLOSED) return; // the browser is retrying by itself
        setTimeout(open, delay);
        delay = Math.min(60000, delay * 2);
      };
    }
    open();
  }
  function start() {
    if (!window.EventSource) return;
    var thread = document.querySelector("[data-live-thread]");
    if (thread) {
      live(thread.getAttribute("data-live-thread"), {
        message: function (e) {
          var data = JSON.parse(e.data);
          var box = document.createElement("template");
          box.innerHTML = data.html.trim();
          var row = box.content.firstElementChild;
          if (row && !document.getElementById(row.id)) {
            thread.appendChild(row);
            row.scrollIntoView({ block: "nearest" });
          }
        },
      });
    }
    document.querySelectorAll("[data-live-inbox]").forEach(function (box) {
      var target = box.getAttribute("data-target") || "#results";
      live(box.getAttribute("data-live-inbox"), {
        inbox: function () {
          if (window.htmx) {
            htmx.ajax("GET", box.getAttribute("data-refresh") + window.location.search, { target: target, swap: "outerHTML" });
          }
        },
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// Canned replies in the reply box: click one, or Alt+1…9 for the first nine found, to insert it.
(function () {
  function insert(button) {
    var box = document.querySelector("[data-testid=reply-text]");
    if (!box || !button) return;
    var text = button.getAttribute("data-text");
    var start = typeof box.selectionStart === "number" ? box.selectionStart : box.value.length;
    var end = typeof box.selectionEnd === "number" ? box.selectionEnd : start;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    var list = document.getElementById("script-pick");
    var csrf = document.querySelector("[name=csrfmiddlewaretoken]");
    if (list && csrf && window.fetch) {
      var url = list.getAttribute("data-use").replace("/0/", "/" + button.getAttribute("data-script") + "/");
      fetch(url, { method: "POST", headers: { "X-CSRFToken": csrf.value }, credentials: "same-origin" });
    }
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest(".script-pick");
    if (button) insert(button);
  });
  document.addEventListener("keydown", function (e) {
    // e.code ("Digit1") is the key itself, whatever character Alt makes of it (macOS)
    var digit = /^Digit([1-9])$/.exec(e.code || "");
    if (!e.altKey || !digit) return;
    var buttons = document.querySelectorAll("#script-pick .script-pick");
    var button = buttons[Number(digit[1]) - 1];
    if (button) { e.preventDefault(); insert(button); }
  });
})();


// Reply box (no inline script: the page's CSP allows only this file): after a reply is sent the box
// clears and gets a fresh one-time key; a reply the live stream already showed is not added twice.
(function () {
  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + String(Math.random()).slice(2);
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    // beforeSwap's elt is the swap target; the element that sent the request is in requestConfig
    var form = (e.detail.requestConfig && e.detail.requestConfig.elt) || e.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-reply-form") || !e.detail.xhr) return;
    var box = document.createElement("template");
    box.innerHTML = (e.detail.xhr.responseText || "").trim();
    var row = box.content.firstElementChild;
    if (row && row.id && document.getElementById(row.id)) e.detail.shouldSwap = false;
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-reply-form") || !e.detail.successful) return;
    form.reset();
    var field = form.querySelector("[name=idempotency_key]");
    if (field) field.value = key();
  });
})();


// Signature pad (field service): the customer signs with a finger or the mouse on [data-signature]
// (a canvas); the strokes go to the form's hidden "signature" field as SVG path data (M/L only), so
// the server stores a drawing, never a script or an image it has to decode.
(function () {
  function setup(canvas) {
    var form = canvas.closest("form");
    var field = form && form.querySelector("[name=signature]");
    if (!field) return;
    var ctx = canvas.getContext("2d");
    var path = [];
    var drawing = false;
    function point(e) {
      var r = canvas.getBoundingClientRect();
      var x = Math.round((e.clientX - r.left) * canvas.width / r.width);
      var y = Math.round((e.clientY - r.top) * canvas.height / r.height);
      return [Math.max(0, x), Math.max(0, y)];
    }
    canvas.addEventListener("pointerdown", function (e) {
      drawing = true; canvas.setPointerCapture(e.pointerId);
      var p = point(e); path.push("M" + p[0] + " " + p[1]);
      ctx.beginPath(); ctx.moveTo(p[0], p[1]); e.preventDefault();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      var p = point(e); path.push("L" + p[0] + " " + p[1]);
      ctx.lineTo(p[0], p[1]); ctx.lineWidth = 2; ctx.stroke(); e.preventDefault();
    });
    function end() { drawing = false; field.value = path.join(" "); }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    var clear = form.querySelector("[data-signature-clear]");
    if (clear) clear.addEventListener("click", function () {
      path = []; field.value = ""; ctx.clearRect(0, 0, canvas.width, canvas.height);
    });
  }
  function init() { document.querySelectorAll("canvas[data-signature]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
