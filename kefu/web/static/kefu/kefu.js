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
