/* Kefu web chat widget. Everything shown is set with textContent (never HTML). */
(function () {
  "use strict";
  var BASE = {{ base_json|safe }}, CODE = {{ code_json|safe }}, TITLE = {{ title_json|safe }}, GREETING = {{ greeting_json|safe }};
  if (window.__kefuWidget) return;
  window.__kefuWidget = true;
  var KEY = "kefu-visitor-" + CODE;
  function rid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var s = ""; for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16); return s;
  }
  var visitor = null, asking = null;
  try { visitor = localStorage.getItem(KEY); } catch (e) {}
  if (visitor && !/^[0-9a-f]{32}\.[0-9a-f]{32}$/.test(visitor)) visitor = null;  // an identity the server did not issue
  var url = BASE + "/desk/widget/" + encodeURIComponent(CODE) + "/messages";
  function identity() {  // the server issues the visitor's identity once; the browser keeps it
    if (visitor) return Promise.resolve(visitor);
    if (!asking) asking = fetch(url + "?new=visitor", { method: "POST", credentials: "omit" })
      .then(function (r) { return r.json(); })
      .then(function (d) { asking = null; if (!d.visitor) throw new Error("no visitor"); visitor = d.visitor;
                           try { localStorage.setItem(KEY, visitor); } catch (e) {} return visitor; },
            function (e) { asking = null; throw e; });
    return asking;
  }
  function forget(r) { if (r.status === 400) { return r.clone().json().then(function (d) {
    if ((d.error || {}).code === "visitor_unknown") { visitor = null; try { localStorage.removeItem(KEY); } catch (e) {} }
    return r; }); } return r; }
  var last = 0, open = false;

  function el(tag, css, text) { var n = document.createElement(tag); if (css) n.style.cssText = css; if (text) n.textContent = text; return n; }
  var root = el("div", "position:fixed;right:16px;bottom:16px;z-index:2147483000;font:14px/1.4 system-ui,sans-serif");
  var button = el("button", "background:#c2410c;color:#fff;border:0;border-radius:20px;padding:10px 16px;cursor:pointer", TITLE || "在线客服");
  button.setAttribute("data-kefu", "open");
  var box = el("div", "display:none;width:min(340px,calc(100vw - 32px));height:420px;background:#fff;border:1px solid #ddd;border-radius:10px;box-shadow:0 6px 24px rgba(0,0,0,.15);flex-direction:column;overflow:hidden");
  var head = el("div", "background:#c2410c;color:#fff;padding:8px 12px;font-weight:600;display:flex;align-items:center;justify-content:space-between");
  head.appendChild(el("span", "", TITLE || "在线客服"));
  var close = el("button", "background:transparent;color:#fff;border:0;font-size:22px;line-height:1;min-width:44px;min-height:36px;cursor:pointer", "×");
  close.setAttribute("aria-label", "关闭"); close.setAttribute("data-kefu", "close"); close.type = "button";
  head.appendChild(close);
  var list = el("div", "flex:1;overflow-y:auto;padding:8px;display:flex;flex-direction:column;gap:6px");
  list.setAttribute("data-kefu", "thread");
  var form = el("form", "display:flex;gap:6px;padding:8px;border-top:1px solid #eee");
  var input = el("input", "flex:1;padding:6px 8px;border:1px solid #ccc;border-radius:6px");
  input.setAttribute("maxlength", "2000"); input.setAttribute("data-kefu", "input"); input.setAttribute("aria-label", "消息");
  var send = el("button", "background:#c2410c;color:#fff;border:0;border-radius:6px;padding:6px 12px", "发送");
  send.setAttribute("data-kefu", "send");
  var note = el("div", "color:#b91c1c;font-size:12px;padding:0 8px");
  form.appendChild(input); form.appendChild(send);
  box.appendChild(head); box.appendChild(list); box.appendChild(note); box.appendChild(form);
  root.appendChild(box); root.appendChild(button);

  function hhmm(iso) {  // the time in the visitor's own clock, as a chat shows it
    var d = new Date(iso); if (isNaN(d)) return "";
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function show(m) {
    var mine = m.from === "visitor";
    var row = el("div", "max-width:80%;display:flex;flex-direction:column;" + (mine ? "align-self:flex-end" : "align-self:flex-start"));
    var bubble = el("div", "padding:6px 10px;border-radius:10px;white-space:pre-wrap;word-break:break-word;" +
      (mine ? "background:#fff1e6" : "background:#f1f5f9"), m.text);
    bubble.setAttribute("data-kefu", mine ? "visitor" : "shop");
    row.appendChild(bubble);
    if (m.at) { var t = el("div", "font-size:11px;color:#64748b;margin-top:2px;" + (mine ? "text-align:right" : ""), hhmm(m.at));
                t.setAttribute("data-kefu", "time"); row.appendChild(t); }
    list.appendChild(row); list.scrollTop = list.scrollHeight;
  }
  if (GREETING) { var hello = el("div", "align-self:flex-start;max-width:80%;padding:6px 10px;border-radius:10px;background:#f1f5f9", GREETING);
                  hello.setAttribute("data-kefu", "greeting"); list.appendChild(hello); }
  function poll() {
    identity().then(function (v) { return fetch(url + "?visitor=" + encodeURIComponent(v) + "&after=" + last, { credentials: "omit" }); })
      .then(forget)
      .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (data) { (data.messages || []).forEach(function (m) { if (m.id > last) { last = m.id; show(m); } }); })
      .catch(function () {});
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    note.textContent = "";
    identity().then(function (v) { return fetch(url, { method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
                 body: JSON.stringify({ visitor: v, id: rid(), text: text }) }); })
      .then(forget)
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
      .then(function (res) { if (res.ok) { input.value = ""; poll(); } else { note.textContent = (res.d.error || {}).message || "发送失败"; } })
      .catch(function () { note.textContent = "网络异常,请稍后再试"; });
  });
  function toggle(want) { open = want; box.style.display = open ? "flex" : "none"; button.style.display = open ? "none" : "";
    if (open) { poll(); input.focus(); } else { button.focus(); } }
  button.addEventListener("click", function () { toggle(!open); });
  close.addEventListener("click", function () { toggle(false); });
  document.addEventListener("keydown", function (e) { if (open && e.key === "Escape") toggle(false); });
  function start() { document.body.appendChild(root); if (visitor) poll(); setInterval(function () { if (open) poll(); }, 1000); }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
