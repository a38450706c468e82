// poshub merchant console: a client of the admin API, nothing more.
"use strict";

const TOKEN_KEY = "poshub.admin_token";
const app = () => document.getElementById("app");

function h(tag, attrs, ...kids) {
  const el = tag === "svg" || tag === "rect" || tag === "line" || tag === "text"
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "test") el.setAttribute("data-test", v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function flash(msg, error) {
  const f = document.getElementById("flash");
  f.textContent = msg || "";
  f.className = error ? "error" : "";
}

async function api(method, path, body, contentType) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) };
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    payload = contentType ? body : JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (res.status === 401) { sessionStorage.removeItem(TOKEN_KEY); route(); }
  if (!res.ok) {
    const detail = data && data.detail ? data.detail : res.status + " " + text;
    const err = new Error(detail);
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;
const when = (t) => (t ? new Date(t).toLocaleString() : "—");

function table(cls, test, headers, rows) {
  return h("table", { class: "stack " + (cls || ""), test },
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows));
}

function row(attrs, headers, cells) {
  return h("tr", attrs, cells.map((c, i) => h("td", { "data-label": headers[i] }, c)));
}

// ---------- login ----------
function loginPage() {
  document.getElementById("nav").hidden = true;
  const input = h("input", { type: "password", name: "token", autocomplete: "current-password", test: "token", required: true });
  const form = h("form", {
    test: "login-form",
    onsubmit: async (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      try {
        await api("GET", "/admin/v1/stores");
        flash("");
        if (!location.hash || location.hash === "#/login") location.hash = "#/stores";
        else route();
      } catch (err) {
        sessionStorage.removeItem(TOKEN_KEY);
        flash("Login failed: " + err.message, true);
      }
    },
  }, h("label", {}, "Admin token", input), h("button", { type: "submit", test: "login" }, "Log in"));
  app().replaceChildren(h("section", { class: "login" }, h("h1", {}, "Merchant console"), form));
}

// ---------- stores ----------
async function storeHealth(code) {
  const log = await api("GET", `/admin/v1/stores/${enc(code)}/sync-log?limit=500`);
  const sent = log.filter((e) => e.status === "sent" && e.sent_at).map((e) => e.sent_at).sort();
  return {
    lastPush: sent.length ? sent[sent.length - 1] : null,
    failed: log.filter((e) => e.status === "failed").length,
    dead: log.filter((e) => e.status === "dead").length,
    pending: log.filter((e) => e.status === "pending" || e.status === "sending").length,
  };
}

async function storesPage() {
  const [stores, plugins, locations] = await Promise.all([
    api("GET", "/admin/v1/stores"), api("GET", "/admin/v1/plugins"), api("GET", "/admin/v1/locations"),
  ]);
  const headers = ["Store", "Connector", "Last push", "Failures", "Dead letters", "Webhook URL"];
  const rows = [];
  for (const s of stores) {
    let hl = { lastPush: null, failed: 0, dead: 0 };
    try { hl = await storeHealth(s.code); } catch (_) { /* shown as empty */ }
    rows.push(row({ test: "store-row-" + s.code }, headers, [
      h("a", { href: "#/stores/" + enc(s.code), test: "store-link-" + s.code }, s.code + " — " + s.name),
      s.connector,
      h("span", { test: "last-push-" + s.code }, when(hl.lastPush)),
      h("span", { class: "badge " + (hl.failed ? "warn" : "ok") }, hl.failed),
      h("span", { class: "badge " + (hl.dead ? "err" : "ok") }, hl.dead),
      h("code", {}, `${location.origin}/hooks/${s.code}/orders/create`),
    ]));
  }
  const f = {
    code: h("input", { name: "code", required: true, test: "new-store-code" }),
    name: h("input", { name: "name", required: true, test: "new-store-name" }),
    connector: h("select", { name: "connector", test: "new-store-connector" },
      plugins.map((p) => h("option", { value: p.id }, `${p.id} (${p.platform} ${p.version})`))),
    locations: h("input", { name: "locations", value: locations.map((l) => l.code).join(","), test: "new-store-locations" }),
    payments: h("input", { name: "payment_types", value: "prepaid,cod", test: "new-store-payments" }),
    configFields: h("div", { class: "grid2", test: "config-fields" }),
    extra: h("textarea", { name: "config", test: "new-store-config", placeholder: '{"access_token": "..."}' }),
  };
  const list = (v) => v.split(",").map((x) => x.trim()).filter(Boolean);
  // The config form follows the connector's own JSON Schema; writeOnly
  // properties are secrets: password fields, never shown back.
  let schemaInputs = [];
  const renderConfig = () => {
    const plugin = plugins.find((p) => p.id === f.connector.value) || {};
    const props = (plugin.config_schema && plugin.config_schema.properties) || {};
    schemaInputs = Object.entries(props).map(([key, prop]) => {
      const plain = prop.type === "string" || prop.type === undefined;
      const input = plain
        ? h("input", { name: key, test: "config-" + key, type: prop.writeOnly ? "password" : prop.format === "uri" ? "url" : "text", autocomplete: prop.writeOnly ? "new-password" : "off" })
        : h("textarea", { name: key, test: "config-" + key, placeholder: prop.type === "object" ? "{}" : "JSON" });
      return { key, plain, input, label: h("label", { title: prop.description || "" }, key + (prop.writeOnly ? " (secret, write-only)" : ""), input, prop.description ? h("small", {}, prop.description) : null) };
    });
    f.configFields.replaceChildren(...schemaInputs.map((x) => x.label));
  };
  f.connector.addEventListener("change", renderConfig);
  renderConfig();
  const form = h("form", {
    test: "new-store-form",
    onsubmit: async (e) => {
      e.preventDefault();
      let config = {};
      try { config = f.extra.value.trim() ? JSON.parse(f.extra.value) : {}; } catch (_) { flash("Config is not JSON", true); return; }
      for (const x of schemaInputs) {
        const v = x.input.value.trim();
        if (!v) continue;
        try { config[x.key] = x.plain ? v : JSON.parse(v); } catch (_) { flash(x.key + " is not JSON", true); return; }
      }
      try {
        await api("POST", "/admin/v1/stores", {
          code: f.code.value.trim(), name: f.name.value.trim(), connector: f.connector.value,
          config, locations: list(f.locations.value), payment_types: list(f.payments.value),
          prices_include_tax: true,
        });
        flash(`Store ${f.code.value} created`);
        location.hash = "#/stores/" + enc(f.code.value.trim());
      } catch (err) { flash(err.message, true); }
    },
  },
  h("label", {}, "Code", f.code), h("label", {}, "Name", f.name), h("label", {}, "Connector", f.connector),
  h("label", {}, "Locations", f.locations), h("label", {}, "Payment types", f.payments),
  h("button", { type: "submit", test: "create-store" }, "Create store"));
  app().replaceChildren(
    h("h1", {}, "Stores"),
    h("section", {}, stores.length ? table("", "stores", headers, rows) : h("p", { test: "no-stores" }, "No stores yet.")),
    h("h2", {}, "New store"), h("section", {}, form));
  form.insertBefore(h("fieldset", { class: "config" }, h("legend", {}, "Connector configuration"), f.configFields, h("label", {}, "More config (JSON)", f.extra)), form.querySelector('[data-test="create-store"]'));
}

// ---------- one store ----------
function latencyChart(log) {
  const since = Date.now() - 6 * 3600 * 1000;
  const rows = log.filter((e) => new Date(e.created_at).getTime() >= since).reverse().slice(-60);
  const W = 600, H = 90;
  const lat = rows.map((e) => (e.sent_at ? new Date(e.sent_at) - new Date(e.created_at) : 0));
  const max = Math.max(1000, ...lat);
  const bw = rows.length ? W / rows.length : W;
  const svg = h("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", test: "sync-chart", role: "img", "aria-label": "push latency and failures, last 6 hours" });
  rows.forEach((e, i) => {
    const bad = e.status === "failed" || e.status === "dead";
    const hgt = bad ? H - 4 : Math.max(2, (lat[i] / max) * (H - 14));
    svg.append(h("rect", { x: i * bw + 1, y: H - hgt, width: Math.max(1, bw - 2), height: hgt, fill: bad ? "#c0392b" : e.status === "sent" ? "#2857d6" : "#b9c0cc" }));
  });
  svg.append(h("text", { x: 4, y: 12, "font-size": 11, fill: "#5a6475" }, `max ${max} ms · red: failed/dead · grey: waiting`));
  return svg;
}

async function storePage(code) {
  const c = enc(code);
  const [store, users, mappings, catalog, log, plugins] = await Promise.all([
    api("GET", `/admin/v1/stores/${c}`), api("GET", `/admin/v1/stores/${c}/api-users`),
    api("GET", `/admin/v1/stores/${c}/mappings`), api("GET", `/admin/v1/stores/${c}/catalog?limit=500`),
    api("GET", `/admin/v1/stores/${c}/sync-log?limit=200`), api("GET", "/admin/v1/plugins"),
  ]);
  const connector = plugins.find((p) => p.id === store.connector) || { topics: [] };
  const topics = connector.topics.length ? connector.topics : ["orders/create"];
  const reload = () => storePage(code).catch((e) => flash(e.message, true));
  const mapped = new Map(mappings.map((m) => [m.reference_code, m]));
  const unmapped = catalog.items.filter((i) => !mapped.has(i.reference_code)).length;

  // Config (secrets come back masked by the hub).
  const cfg = h("section", { test: "store-config" },
    h("table", {}, h("tbody", {},
      [["Status", h("span", {}, h("b", { test: "store-enabled" }, store.enabled ? "switched on" : "switched off"), " ",
        h("button", {
          test: "toggle-store",
          onclick: async () => {
            try {
              await api("PATCH", `/admin/v1/stores/${c}`, { enabled: !store.enabled });
              flash(store.enabled ? `Store ${store.code} switched off: its keys and webhooks are refused, pushes wait.` : `Store ${store.code} switched on.`);
              await reload();
            } catch (err) { flash(err.message, true); }
          },
        }, store.enabled ? "Disable" : "Enable"))],
        ["Connector", store.connector], ["Locations", store.locations.join(", ")],
        ["Payment types", store.payment_types.join(", ")],
        ["Webhook URLs", h("div", { test: "webhook-urls" }, topics.map((t) => h("div", {}, h("code", {}, `${location.origin}/hooks/${store.code}/${t}`))))],
        ...Object.entries(store.config).map(([k, v]) => [k, h("code", {}, typeof v === "string" ? v : JSON.stringify(v))])]
        .map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))))));

  // API users.
  const userName = h("input", { name: "name", required: true, test: "api-user-name" });
  const keyBox = h("div", { test: "new-key" });
  const usersSec = h("section", {},
    table("", "api-users", ["Name", "Locations", "Key prefix", "Created"],
      users.map((u) => row({}, ["Name", "Locations", "Key prefix", "Created"], [u.name, u.locations.join(", "), h("code", {}, u.key_prefix), when(u.created_at)]))),
    h("form", {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const u = await api("POST", `/admin/v1/stores/${c}/api-users`, { name: userName.value });
          await reload();
          const box = document.querySelector('[data-test="new-key"]');
          box.replaceChildren(h("p", { class: "key" }, "New key (shown once): ", h("code", { test: "api-key" }, u.api_key)));
        } catch (err) { flash(err.message, true); }
      },
    }, h("label", {}, "New API user", userName), h("button", { type: "submit", test: "create-api-user" }, "Create key")),
    keyBox);

  // Mappings.
  const mapHeaders = ["Reference code", "Item", "Price", "Available", "Storefront id"];
  const mapRows = catalog.items.map((i) => {
    const m = mapped.get(i.reference_code);
    return row({ class: m ? "" : "unmapped", test: "mapping-" + i.reference_code }, mapHeaders, [
      h("code", {}, i.reference_code), i.name + (Object.keys(i.attributes).length ? " (" + Object.values(i.attributes).join("/") + ")" : ""),
      i.price || "—", i.locations.map((l) => `${l.location}: ${l.available}`).join(", "),
      m ? h("code", { test: "external-id" }, m.external_id) : h("span", { class: "badge warn", test: "unmapped" }, "unmapped"),
    ]);
  });
  const candidates = h("textarea", { name: "candidates", test: "automatch-candidates", placeholder: "sku,external_id per line (empty: use the storefront's catalogue hints)" });
  const preview = h("div", { test: "automatch-preview" });
  const parseCandidates = () => candidates.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
    const [sku, external_id, parent_id, inventory_id] = l.split(",").map((x) => x.trim());
    const cand = { sku, external_id };
    if (parent_id) cand.parent_id = parent_id;
    if (inventory_id) cand.inventory_id = inventory_id;
    return cand;
  });
  const autoMatch = async (apply) => {
    const body = { apply };
    const list = parseCandidates();
    if (list.length) body.candidates = list;
    try {
      const r = await api("POST", `/admin/v1/stores/${c}/mappings/auto-match`, body);
      const ph = ["SKU", "Storefront id", "Result", "Detail"];
      preview.replaceChildren(h("p", {}, `${r.matched} to map (from ${r.source})` + (r.applied ? ", applied" : ", preview only")),
        table("", "automatch-results", ph, r.candidates.map((x) => row({ class: x.result === "matched" ? "" : "unmapped" }, ph,
          [h("code", {}, x.sku || ""), h("code", {}, x.external_id), h("span", { class: "badge" }, x.result), x.detail || ""]))));
      if (apply) {
        await reload();
        flash(`Auto-match mapped ${r.matched} variants`);
      }
    } catch (err) { flash(err.message, true); }
  };
  const csv = h("textarea", { name: "csv", test: "mapping-csv", placeholder: "reference_code,external_id\nMUG,gid-1" });
  const genTemplate = h("input", { name: "template", value: "{item_code}-{color}-{size}", test: "gen-template" });
  const genPreview = h("div", { test: "gen-preview" });
  const generate = async (apply) => {
    try {
      const r = await api("POST", "/admin/v1/reference-codes/generate", { template: genTemplate.value, apply });
      genPreview.replaceChildren(table("", "gen-plan", ["Item", "Old", "New"],
        r.variants.map((v) => row({}, ["Item", "Old", "New"], [v.item_code, v.old, v.new]))),
        (r.collisions || []).length ? h("p", { class: "badge err" }, `${r.collisions.length} collisions`) : null);
      if (apply) { flash("Reference codes written"); await reload(); }
    } catch (err) { flash(err.message, true); }
  };
  const mapSec = h("section", {},
    h("p", { test: "unmapped-count" }, `${unmapped} of ${catalog.items.length} variants unmapped`),
    table("", "mappings", mapHeaders, mapRows),
    h("h2", {}, "Auto-match by SKU"), candidates,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", test: "automatch-preview-btn", onclick: () => autoMatch(false) }, "Preview"),
      h("button", { type: "button", test: "automatch-apply", onclick: () => autoMatch(true) }, "Auto-match")),
    preview,
    h("h2", {}, "CSV import"), csv,
    h("div", { class: "actions" }, h("button", {
      type: "button", test: "mapping-import", onclick: async () => {
        try {
          const r = await api("POST", `/admin/v1/stores/${c}/mappings/import`, csv.value, "text/csv");
          flash(`Imported ${r.accepted}; refused ${r.rejected.length}` + r.rejected.map((x) => ` · line ${x.line}: ${x.reason}`).join(""), r.rejected.length > 0);
          await reload();
        } catch (err) { flash(err.message, true); }
      },
    }, "Import CSV")),
    h("h2", {}, "Reference codes in bulk"),
    h("label", {}, "Template", genTemplate),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", test: "gen-preview-btn", onclick: () => generate(false) }, "Preview"),
      h("button", { type: "button", test: "gen-apply", onclick: () => generate(true) }, "Apply")),
    genPreview);

  // Sync log.
  const logHeaders = ["#", "What", "Status", "Attempts", "Request", "Answer", "When", ""];
  const logRows = log.map((e) => row({ class: e.status === "dead" || e.status === "failed" ? "bad" : "", test: "sync-row" }, logHeaders, [
    e.id, h("span", {}, e.kind + " ", h("code", {}, e.subject)),
    h("span", { class: "badge " + (e.status === "sent" ? "ok" : e.status === "dead" ? "err" : "warn"), test: "sync-status" }, e.status),
    e.attempts, h("code", { test: "sync-request" }, e.request_summary || "—"),
    (e.response_status || "—") + (e.sent_value ? " · " + e.sent_value : "") + (e.error ? " · " + e.error : ""),
    when(e.sent_at || e.updated_at),
    e.status === "dead" ? h("button", {
      type: "button", class: "secondary", test: "retry-" + e.id, onclick: async () => {
        try { await api("POST", `/admin/v1/stores/${c}/sync-log/${e.id}/retry`); flash("Queued again"); await reload(); } catch (err) { flash(err.message, true); }
      },
    }, "Retry") : "",
  ]));
  const syncSec = h("section", {},
    latencyChart(log),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", test: "sync-refresh", onclick: reload }, "Refresh"),
      h("button", {
        type: "button", class: "secondary", test: "retry-all", onclick: async () => {
          try { const r = await api("POST", `/admin/v1/stores/${c}/sync-log/retry`); flash(`${r.requeued} queued again`); await reload(); } catch (err) { flash(err.message, true); }
        },
      }, "Retry all dead")),
    table("", "sync-log", logHeaders, logRows));

  app().replaceChildren(
    h("h1", { test: "store-title" }, `${store.code} — ${store.name}`),
    h("div", { class: "grid2" }, h("div", {}, h("h2", {}, "Configuration"), cfg), h("div", {}, h("h2", {}, "API users"), usersSec)),
    h("h2", {}, "Catalogue and mappings"), mapSec,
    h("h2", {}, "Sync log"), syncSec);
}

// ---------- orders ----------
async function ordersPage(params) {
  const stores = await api("GET", "/admin/v1/stores");
  const q = new URLSearchParams();
  for (const k of ["store", "status"]) if (params.get(k)) q.set(k, params.get(k));
  if (params.get("since")) q.set("updated_since", new Date(params.get("since")).toISOString());
  const page = await api("GET", "/admin/v1/sales-orders?" + q.toString());
  const store = h("select", { name: "store", test: "filter-store" }, h("option", { value: "" }, "all stores"),
    stores.map((s) => h("option", { value: s.code, selected: params.get("store") === s.code }, s.code)));
  const statuses = ["pending", "billed", "ready", "shipped", "out_for_delivery", "delivered", "partially_returned", "returned", "cancelled"];
  const status = h("select", { name: "status", test: "filter-status" }, h("option", { value: "" }, "any status"),
    statuses.map((s) => h("option", { value: s, selected: params.get("status") === s }, s)));
  const since = h("input", { type: "date", name: "since", value: params.get("since") || "", test: "filter-since" });
  const filters = h("form", {
    test: "order-filters",
    onsubmit: (e) => {
      e.preventDefault();
      const p = new URLSearchParams();
      if (store.value) p.set("store", store.value);
      if (status.value) p.set("status", status.value);
      if (since.value) p.set("since", since.value);
      location.hash = "#/orders?" + p.toString();
    },
  }, h("label", {}, "Store", store), h("label", {}, "Status", status), h("label", {}, "Updated since", since),
  h("button", { type: "submit", test: "apply-filters" }, "Filter"));
  const headers = ["Order", "Reference", "Store", "Status", "Customer", "Total", "Placed"];
  const rows = page.sales_orders.map((o) => row({ test: "order-row-" + o.online_reference_no }, headers, [
    h("a", { href: "#/orders/" + o.id, test: "order-link-" + o.online_reference_no }, "#" + o.id),
    o.online_reference_no, o.store, h("span", { class: "badge", test: "order-status" }, o.status),
    o.customer.name || o.customer.phone || "—", o.total, when(o.placed_at || o.created_at),
  ]));
  app().replaceChildren(h("h1", {}, "Orders"), h("section", {}, filters),
    h("section", {}, rows.length ? table("", "orders", headers, rows) : h("p", { test: "no-orders" }, "No orders match.")));
}

function orderActions(o, reload) {
  const id = o.id;
  const act = (label, test, path, bodyFn, cls) => h("button", {
    type: "button", test, class: cls || "", onclick: async () => {
      const body = bodyFn ? bodyFn() : undefined;
      if (body === null) return;
      try { await api("POST", `/admin/v1/sales-orders/${id}/${path}`, body); flash(label + ": done"); await reload(); } catch (err) { flash(err.message, true); }
    },
  }, label);
  const out = [];
  const s = o.status;
  if (s === "pending") {
    const pay = h("select", { name: "payment_type", test: "bill-payment-type" },
      ["cod", "prepaid", "card", "upi", "cash"].map((t) => h("option", { value: t, selected: (o.payments[0] || {}).type === t }, t)));
    out.push(h("label", {}, "Payment type", pay), act("Bill", "action-bill", "bill", () => ({ payment_type: pay.value })));
  }
  if (s === "billed") out.push(act("Ready", "action-ready", "ready"));
  if (s === "billed" || s === "ready") {
    const carrier = h("input", { name: "carrier", placeholder: "carrier", test: "ship-carrier" });
    const tracking = h("input", { name: "tracking_number", placeholder: "tracking number", test: "ship-tracking" });
    out.push(carrier, tracking, act("Ship", "action-ship", "ship", () => ({ carrier: carrier.value, tracking_number: tracking.value })));
  }
  if (s === "shipped") out.push(act("Out for delivery", "action-out-for-delivery", "out-for-delivery"));
  if (["billed", "ready", "shipped", "out_for_delivery"].includes(s)) out.push(act("Deliver", "action-deliver", "deliver"));
  if (["pending", "billed", "ready"].includes(s)) out.push(act("Cancel", "action-cancel", "cancel", () => (confirm("Cancel the whole order?") ? {} : null), "danger"));
  if (s === "delivered" || s === "partially_returned") {
    out.push(act("Return everything", "action-return", "returns", () => {
      const lines = o.lines.map((l) => ({ line_no: l.line_no, quantity: String(Number(l.quantity) - Number(l.cancelled_quantity || 0) - Number(l.returned_quantity || 0)) }))
        .filter((l) => Number(l.quantity) > 0);
      return confirm("Return every delivered unit?") ? { lines, reason: "returned from the console" } : null;
    }, "danger"));
  }
  return out.length ? out : [h("span", {}, "No actions for a " + s + " order.")];
}

async function orderPage(id) {
  const o = await api("GET", `/admin/v1/sales-orders/${enc(id)}`);
  const reload = () => orderPage(id).catch((e) => flash(e.message, true));
  const lh = ["#", "Reference code", "Qty", "Unit price", "Tax", "Amount", "Cancelled", "Returned"];
  app().replaceChildren(
    h("h1", { test: "order-title" }, `Order #${o.id} · ${o.online_reference_no}`),
    h("section", {},
      h("p", {}, "Status: ", h("span", { class: "badge", test: "order-status" }, o.status),
        " · Store ", o.store, " · Location ", o.location, o.bill_no ? h("span", {}, " · Bill ", h("code", { test: "bill-no" }, o.bill_no)) : ""),
      h("div", { class: "actions", test: "order-actions" }, orderActions(o, reload))),
    h("div", { class: "grid2" },
      h("section", { test: "order-customer" }, h("h2", {}, "Customer"),
        h("p", {}, o.customer.name || "—", h("br"), o.customer.phone || "", h("br"), o.customer.email || "")),
      h("section", { test: "order-payments" }, h("h2", {}, "Payments"),
        o.payments.map((p) => h("p", {}, `${p.type}: ${p.amount}`)), h("p", {}, h("strong", {}, "Total " + o.total)))),
    h("section", {}, h("h2", {}, "Lines"), table("", "order-lines", lh, o.lines.map((l) => row({}, lh, [
      l.line_no, h("code", {}, l.reference_code), l.quantity, l.unit_price, l.tax_amount, l.amount, l.cancelled_quantity, l.returned_quantity || "0"])))),
    h("section", {}, h("h2", {}, "History"), table("", "order-history", ["Status", "When", "By", "Note"],
      o.history.map((e) => row({}, ["Status", "When", "By", "Note"], [e.status, when(e.at), e.by, e.note || ""])))));
}

// ---------- routing ----------
async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) { loginPage(); return; }
  document.getElementById("nav").hidden = false;
  const [path, query] = (location.hash.slice(1) || "/stores").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === "orders" && parts[1]) await orderPage(parts[1]);
    else if (parts[0] === "orders") await ordersPage(new URLSearchParams(query || ""));
    else if (parts[0] === "stores" && parts[1]) await storePage(parts[1]);
    else await storesPage();
    document.body.setAttribute("data-page", parts[0] || "stores");
  } catch (err) {
    if (err.status !== 401) flash(err.message, true);
  }
}

window.addEventListener("hashchange", () => { flash(""); route(); });
window.addEventListener("DOMContentLoaded", () => {
  document.getElementById("logout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); location.hash = "#/login"; route(); });
  route();
});
