// healthscore web app: the live alert feed on "At risk today".
// Hand-written, no library: EventSource (same origin, the session cookie
// authenticates it) and a few DOM updates. Everything inserted is text, never HTML.
"use strict";

(function () {
  const list = document.getElementById("live-alerts");
  if (!list || !window.EventSource) return;
  const status = document.getElementById("live-status");
  const table = document.querySelector("#at-risk-table tbody");
  const source = new EventSource(list.dataset.stream);

  source.addEventListener("open", () => { status.textContent = "live"; });
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; });
  source.addEventListener("alert", (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch (_) { return; }
    const data = event.data || {};
    showAlert(data);
    if (data.band === "at_risk") upsertRow(data);
  });

  function words(name) { return String(name || "").replace(/_/g, " "); }

  function showAlert(data) {
    const item = document.createElement("li");
    item.className = "alert-" + (data.alert || "");
    item.dataset.account = data.account_id;
    const link = document.createElement("a");
    link.href = "/app/accounts/" + encodeURIComponent(data.account_id);
    link.textContent = data.name || data.account_id;
    item.append(link, " " + words(data.alert) + " (score " + Math.round(data.score) + ")");
    if (data.reasons && data.reasons.length) {
      const why = document.createElement("span");
      why.className = "why";
      why.textContent = " — " + data.reasons.slice(0, 3).join("; ");
      item.append(why);
    }
    list.prepend(item);
    while (list.children.length > 20) list.lastElementChild.remove();
  }

  function upsertRow(data) {
    if (!table) return;
    let row = table.querySelector('tr[data-account="' + CSS.escape(data.account_id) + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.account = data.account_id;
      for (let i = 0; i < 9; i++) {
        const cell = document.createElement("td");
        cell.textContent = "—";
        row.append(cell);
      }
      const link = document.createElement("a");
      link.href = "/app/accounts/" + encodeURIComponent(data.account_id);
      link.textContent = data.name || data.account_id;
      row.cells[0].textContent = "";
      row.cells[0].append(link);
      if (typeof data.arr_cents === "number") {
        row.cells[4].textContent = "$" + Math.round(data.arr_cents / 100).toLocaleString("en-US");
      }
      row.cells[6].textContent = data.owner || "unassigned";
      const empty = table.querySelector("tr.empty");
      if (empty) empty.remove();
    }
    row.className = "band-at_risk fresh";
    row.cells[1].textContent = String(Math.round(data.score));
    row.cells[8].textContent = (data.reasons || []).slice(0, 3).join("; ") || words(data.alert);
    table.prepend(row);
  }
})();
