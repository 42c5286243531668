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
