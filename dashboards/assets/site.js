/* IKMS dashboards: every chart of every page is drawn here with Plotly.newPlot from the page's JSON
   (<script id="page-data">) and the shared data/*.js files. Works from file:// (no fetch/XHR). */
(function () {
  "use strict";
  var IKMS = (window.IKMS = window.IKMS || {});
  var LANG_KEY = "ikms.lang";
  // Okabe–Ito (colour-blind safe) for categories; viridis for continuous scales
  var OI = ["#0072B2", "#E69F00", "#009E73", "#000000", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"];
  var VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
  var T = {
    lv: { inst: "Iestāde", peers: "Salīdzināmā grupa (mediāna)", muni: "Pašvaldība", nat: "Latvija", target: "Mērķis",
      year: "Mācību gads", value: "Vērtība", confidential: "c — konfidenciāli: par maz izglītojamo vai novērojumu, lai publicētu",
      nodata: "nav datu", count: "Skaits", units: "vienības", ranking: "Salīdzinājums", distribution: "Sadalījums",
      trend: "Dinamika", breakdown: "Dalījums", total: "Kopā", all_munis: "Pašvaldības", this_muni: "Šī pašvaldība",
      institutions: "Iestādes", def: "Definīcija", ref: "Standarts", source: "Avots", completeness: "Pilnīgums, %",
      timeliness: "Savlaicīgums, %", n_inst: "Iestāžu skaits", level_institution: "Iestādes",
      level_municipality: "Pašvaldības", level_national: "Latvija", none: "(nav)", latest: "pēdējais gads",
      max5: "Var salīdzināt ne vairāk kā 5", domain: "Joma", lv_short: "EN" },
    en: { inst: "Institution", peers: "Peer group (median)", muni: "Municipality", nat: "Latvia", target: "Target",
      year: "School year", value: "Value", confidential: "c — confidential: too few learners or observations to publish",
      nodata: "no data", count: "Count", units: "units", ranking: "Ranking", distribution: "Distribution",
      trend: "Trend", breakdown: "Breakdown", total: "Total", all_munis: "Municipalities", this_muni: "This municipality",
      institutions: "Institutions", def: "Definition", ref: "Reference", source: "Source", completeness: "Completeness, %",
      timeliness: "Timeliness, %", n_inst: "Institutions", level_institution: "Institutions",
      level_municipality: "Municipalities", level_national: "Latvia", none: "(none)", latest: "latest year",
      max5: "At most 5 can be compared", domain: "Domain", lv_short: "LV" }
  };
  var DECIMALS = { percent: 1, points: 2, ratio: 1, lessons: 1, km: 1, eur: 0, count: 0 };

  IKMS.lang = function () {
    var l = null;
    try { l = window.localStorage.getItem(LANG_KEY); } catch (e) { l = null; }
    return l === "en" ? "en" : "lv";
  };
  IKMS.t = function (k) { return T[IKMS.lang()][k] || k; };

  IKMS.fmt = function (v, unit, flag) {
    var marked = flag && flag !== ".";
    if (marked && (v === null || v === undefined)) return flag;  // public: the symbol only
    if (marked) return IKMS.fmt(v, unit) + " " + flag;             // internal: the value, marked
    if (v === null || v === undefined || isNaN(v)) return "–";
    var lang = IKMS.lang(), d = DECIMALS.hasOwnProperty(unit) ? DECIMALS[unit] : 2;
    var s = Number(v).toLocaleString(lang === "lv" ? "lv-LV" : "en-GB",
      { minimumFractionDigits: d, maximumFractionDigits: d });
    if (unit === "percent") return s + (lang === "lv" ? "\u00a0%" : "%");
    if (unit === "eur") return lang === "lv" ? s + "\u00a0€" : "€" + s;
    return s;
  };

  function meta() { return window.IKMS_META; }
  function cat(id) { return meta().catalogue[id]; }
  function name(id) { var c = cat(id); return IKMS.lang() === "en" ? c.name_en : c.name_lv; }
  function yl() { return meta().year_labels; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function payload() {
    var s = document.getElementById("page-data");
    return s ? JSON.parse(s.textContent) : {};
  }
  function dimLabel(dim, code) {
    var m = meta(), lang = IKMS.lang();
    if (m.special[code]) return m.special[code][lang];
    var d = m.dims[dim];
    if (d && d.values[code]) return d.values[code][lang];
    return code;
  }
  function unitName(level, code) {
    if (level === "national") return IKMS.t("nat");
    if (level === "municipality") return meta().munis[code] || code;
    var U = window.IKMS_UNITS;
    if (U) { var i = U.u.indexOf(code); if (i >= 0) return U.n[i]; }
    return code;
  }

  /* ---------- language switch ---------- */
  function applyLang() {
    var lang = IKMS.lang();
    document.documentElement.lang = lang;
    var nodes = document.querySelectorAll("[data-en]");
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      if (n.dataset.lv === undefined) n.dataset.lv = n.textContent;
      n.textContent = lang === "en" ? n.dataset.en : n.dataset.lv;
    }
    var vals = document.querySelectorAll("[data-unit][data-value]");  // numbers rendered by the server
    for (var j = 0; j < vals.length; j++) {
      var d = vals[j].dataset;
      vals[j].textContent = IKMS.fmt(d.value === "" ? null : Number(d.value), d.unit, d.flag || ".");
    }
    var b = document.getElementById("lang-toggle");
    if (b) b.textContent = T[lang].lv_short;
  }
  IKMS.setLang = function (lang) {
    try { window.localStorage.setItem(LANG_KEY, lang); } catch (e) { /* storage off: session only */ }
    applyLang();
    IKMS.redraw();
  };

  /* ---------- charts ---------- */
  var drawers = []; // functions that (re)draw a chart once it is visible
  var observer = null;
  function lazy(div, draw) {
    div._ikmsDraw = draw;
    drawers.push(div);
    if (!observer && "IntersectionObserver" in window) {
      observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (e.isIntersecting && !e.target._ikmsDone) { e.target._ikmsDone = true; e.target._ikmsDraw(); }
        });
      }, { rootMargin: "300px" });
    }
    if (observer) observer.observe(div); else { div._ikmsDone = true; draw(); }
  }
  IKMS.redraw = function () {
    drawers.forEach(function (d) { if (d._ikmsDone) d._ikmsDraw(); });
  };
  var CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
  function plot(div, traces, layout) {
    layout = Object.assign({ margin: { l: 50, r: 10, t: 10, b: 40 }, font: { family: "system-ui, sans-serif", size: 12 },
      legend: { orientation: "h", y: -0.2 }, hovermode: "closest", paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#fff" }, layout || {});
    return Plotly.react(div, traces, layout, CONFIG);
  }
  function yAxis(unit) {
    var ax = { zeroline: true, gridcolor: "#e5e5e5" };
    if (unit !== "points") ax.rangemode = "tozero"; // rates and counts start at zero
    if (unit === "percent") ax.ticksuffix = IKMS.lang() === "lv" ? " %" : "%";
    ax.separatethousands = true;
    return ax;
  }
  function hoverVals(v, unit) { return v.map(function (x) { return IKMS.fmt(x, unit); }); }

  /* A ten-year trend: series [{label, v, f, color, dash, width}]; gaps stay gaps (connectgaps false);
     suppressed years of the first series get a 'c' annotation with a tooltip, never a zero. */
  IKMS.trend = function (div, id, series, target, title) {
    var c = cat(id), unit = c.unit, x = yl(), traces = [], ann = [];
    series.forEach(function (s, k) {
      if (!s.v) return;
      var any = s.v.some(function (q) { return q !== null; });
      if (!any && k > 0) return;
      traces.push({ type: "scatter", mode: "lines+markers", name: s.label, x: x, y: s.v, connectgaps: false,
        line: { color: s.color || OI[k % OI.length], dash: s.dash || "solid", width: s.width || 2 },
        marker: { size: s.width === 3 ? 7 : 5 }, text: hoverVals(s.v, unit), hovertemplate: "%{x}: %{text}<extra>" + s.label + "</extra>" });
    });
    var main = series[0];
    if (main && main.f) {
      for (var i = 0; i < main.f.length; i++) {
        if (main.f[i] === "c") ann.push({ x: x[i], y: 0, xref: "x", yref: "paper", yanchor: "bottom", text: "c", showarrow: false,
          font: { color: "#D55E00", size: 14 }, hovertext: IKMS.t("confidential"), bgcolor: "#fff" });
      }
    }
    if (target && (!target.dimension || target.series)) {
      traces.push({ type: "scatter", mode: "lines", name: (IKMS.lang() === "en" ? target.label_en : target.label_lv),
        x: [x[0], x[x.length - 1]], y: [target.value, target.value], line: { color: "#D55E00", dash: "dash", width: 1.5 },
        hoverinfo: "name" });
    }
    return plot(div, traces, { xaxis: { type: "category", gridcolor: "#f0f0f0", automargin: true, tickangle: -45 }, yaxis: yAxis(unit),
      annotations: ann, showlegend: traces.length > 1, title: title ? { text: title, font: { size: 13 }, x: 0 } : undefined,
      legend: { orientation: "h", yanchor: "top", y: -0.42 }, height: traces.length > 1 ? 320 : 260,
      margin: { l: 50, r: 10, t: title ? 35 : 10, b: traces.length > 1 ? 40 : 60 } });
  };

  /* A card per indicator: name, latest value (or c), chart, definition, reference, source. */
  function card(id, series, target, extra) {
    var c = cat(id), art = el("article", "card"), main = series[0];
    art.dataset.indicator = id;
    var h = el("h3", null, name(id)); h.dataset.en = c.name_en; h.dataset.lv = c.name_lv; art.appendChild(h);
    var last = -1;
    for (var i = main.v.length - 1; i >= 0; i--) { if (main.v[i] !== null || (main.f && main.f[i] === "c")) { last = i; break; } }
    var big = el("p", "big");
    if (last >= 0) {
      var flag = main.f ? main.f[last] : ".";
      var sp = el("span", "val" + (flag === "c" ? " suppressed" : ""), IKMS.fmt(main.v[last], c.unit, flag));
      if (flag === "c") sp.title = IKMS.t("confidential");
      big.appendChild(sp); big.appendChild(el("span", "yr", " " + yl()[last]));
    } else big.textContent = "–";
    art.appendChild(big);
    var div = el("div", "chart"); art.appendChild(div);
    // the main series as text (accessible; shows 'c' for suppressed years, never a number)
    var tbl = el("table", "vals"), tr1 = el("tr"), tr2 = el("tr");
    yl().forEach(function (y, k) {
      tr1.appendChild(el("th", null, y.slice(2)));
      var td = el("td", main.f && main.f[k] === "c" ? "suppressed" : null, IKMS.fmt(main.v[k], c.unit, main.f ? main.f[k] : "."));
      if (main.f && main.f[k] === "c") td.title = IKMS.t("confidential");
      tr2.appendChild(td);
    });
    tbl.appendChild(tr1); tbl.appendChild(tr2); art.appendChild(tbl);
    art.appendChild(el("p", "def", c.definition));
    art.appendChild(el("p", "ref", c.reference + ". VIIS / IZM."));
    if (extra && extra.level) {  // open the same indicator and unit in the explorer
      var a = el("a", "explore", IKMS.lang() === "en" ? "Explore ›" : "Pētīt ›");
      a.dataset.lv = "Pētīt ›"; a.dataset.en = "Explore ›";
      a.href = document.body.dataset.root + "explorer.html?indicator=" + encodeURIComponent(id) + "&level=" + extra.level +
        (extra.unit ? "&unit=" + encodeURIComponent(extra.unit) : "");
      art.appendChild(a);
    }
    lazy(div, function () { IKMS.trend(div, id, series.map(function (s) { return Object.assign({}, s, { label: IKMS.t(s.key) }); }), target); });
    return art;
  }

  function byDomain(ids) {
    var out = {};
    ids.forEach(function (id) { var d = cat(id).domain; (out[d] = out[d] || []).push(id); });
    return out;
  }
  function domainSections(container, ids, makeCard) {
    var groups = byDomain(ids), m = meta();
    Object.keys(groups).sort().forEach(function (d) {
      var sec = el("section", "domain"), h = el("h2", null, d + ". " + m.domains[d].lv);
      h.dataset.lv = h.textContent; h.dataset.en = d + ". " + m.domains[d].en;
      sec.appendChild(h);
      var wrap = el("div", "cards"); sec.appendChild(wrap);
      groups[d].forEach(function (id) { wrap.appendChild(makeCard(id)); });
      container.appendChild(sec);
    });
  }
  function nat(id) { var n = meta().national[id]; return n ? n : { v: yl().map(function () { return null; }), f: "" }; }

  /* ---------- pages ---------- */
  var pages = {};
  pages.overview = function (p) {
    var targets = meta().targets || {};
    document.querySelectorAll(".card[data-indicator]").forEach(function (art) {
      var id = art.dataset.indicator, div = art.querySelector(".chart"), t = targets[id];
      var series = [{ key: "nat", v: nat(id).v, f: nat(id).f, color: OI[3], width: 3 }];
      var ts = p.target_series && p.target_series[id];
      if (t && ts) {
        series.push({ key: "target_series", label: dimLabel(ts.dim, ts.code), v: ts.v, f: ts.f, color: OI[0] });
        t = Object.assign({ series: true }, t);
      }
      lazy(div, function () {
        IKMS.trend(div, id, series.map(function (s) { return Object.assign({}, s, { label: s.label || IKMS.t(s.key) }); }), t);
      });
    });
  };
  pages.institution = function (p) {
    var s = p.series, idx = {};
    s.indicator_id.forEach(function (id, k) { idx[id] = k; });
    var targets = meta().targets || {};
    domainSections(document.getElementById("indicators"), s.indicator_id.filter(function (id) { return cat(id); }), function (id) {
      var k = idx[id], series = [
        { key: "inst", v: s.v[k], f: s.f[k], color: OI[0], width: 3 },
        { key: "peers", v: s.p[k] || [], f: "", color: OI[1], dash: "dot" }];
      if (cat(id).aggregation !== "count") {  // a count is not comparable with its municipality's or Latvia's
        series.push({ key: "muni", v: s.m[k] || [], f: s.mf[k] || "", color: OI[2], dash: "dash" });
        series.push({ key: "nat", v: nat(id).v, f: nat(id).f, color: OI[3] });
      }
      return card(id, series, targets[id] && !targets[id].dimension ? targets[id] : null,
        { level: "institution", unit: p.id });
    });
  };
  pages.municipality = function (p) {
    var s = p.series, idx = {}, M = window.IKMS_MUNIS || {}, targets = meta().targets || {};
    s.indicator_id.forEach(function (id, k) { idx[id] = k; });
    domainSections(document.getElementById("indicators"), s.indicator_id.filter(function (id) { return cat(id); }), function (id) {
      var k = idx[id];
      var series = [{ key: "muni", v: s.v[k], f: s.f[k], color: OI[2], width: 3 }];
      if (cat(id).aggregation !== "count") series.push({ key: "nat", v: nat(id).v, f: nat(id).f, color: OI[3] });
      var art = card(id, series, targets[id] && !targets[id].dimension ? targets[id] : null,
        { level: "municipality", unit: p.code });
      // position among the 43 municipalities in the indicator's latest year
      var div = el("div", "chart small"); art.insertBefore(div, art.querySelector(".vals"));
      lazy(div, function () { muniStrip(div, id, M[id], p.code); });
      return art;
    });
    rankingSection(p);
  };
  function muniStrip(div, id, data, code) {
    if (!data) return;
    var yi = meta().years.indexOf(meta().last_year[id]), c = cat(id), rows = [];
    data.unit_code.forEach(function (u, k) { if (data.v[k][yi] !== null) rows.push([u, data.v[k][yi]]); });
    rows.sort(function (a, b) { return a[1] - b[1]; });
    plot(div, [{ type: "bar", x: rows.map(function (r) { return meta().munis[r[0]] || r[0]; }), y: rows.map(function (r) { return r[1]; }),
      marker: { color: rows.map(function (r) { return r[0] === code ? OI[6] : "#b8b8b8"; }) },
      text: rows.map(function (r) { return IKMS.fmt(r[1], c.unit); }), textposition: "none",
      hovertemplate: "%{x}: %{text}<extra></extra>" }],
      { height: 170, margin: { l: 50, r: 10, t: 20, b: 10 }, xaxis: { showticklabels: false, type: "category" }, yaxis: yAxis(c.unit),
        title: { text: IKMS.t("all_munis") + ", " + yl()[yi], font: { size: 11 }, x: 0 }, showlegend: false });
  }
  function rankingSection(p) {
    var sel = document.getElementById("rank-indicator"), inst = p.inst || {};
    if (!sel) return;
    var ids = Object.keys(inst.vals || {}).filter(function (id) { return cat(id); }).sort();
    ids.forEach(function (id) { var o = el("option", null, name(id)); o.value = id; sel.appendChild(o); });
    if (ids.indexOf("ENR_TOTAL") >= 0) sel.value = "ENR_TOTAL";
    var div = document.getElementById("rank-chart"), tbody = document.querySelector("#rank-table tbody");
    function draw() {
      var id = sel.value; if (!id) return;
      var d = inst.vals[id], fl = inst.flags[id], c = cat(id), rows = [];
      inst.u.forEach(function (u, k) { if (d[k] !== null || fl[k] === "c") rows.push({ u: u, n: inst.n[k], v: d[k], f: fl[k] }); });
      var asc = c.direction === "lower_better";
      rows.sort(function (a, b) {
        if (a.v === null && b.v === null) return a.n < b.n ? -1 : 1;
        if (a.v === null) return 1; if (b.v === null) return -1;
        return asc ? a.v - b.v : b.v - a.v;
      });
      tbody.textContent = "";
      rows.forEach(function (r, k) {
        var tr = el("tr"); tr.appendChild(el("td", null, String(k + 1)));
        var td = el("td"), a = el("a", null, r.n); a.href = "../inst/" + r.u + ".html"; td.appendChild(a); tr.appendChild(td);
        var tv = el("td", "num" + (r.f === "c" ? " suppressed" : ""), IKMS.fmt(r.v, c.unit, r.f));
        if (r.f === "c") tv.title = IKMS.t("confidential");
        tr.appendChild(tv); tbody.appendChild(tr);
      });
      var shown = rows.filter(function (r) { return r.v !== null; }).slice(0, 40).reverse();
      plot(div, [{ type: "bar", orientation: "h", y: shown.map(function (r) { return r.n; }), x: shown.map(function (r) { return r.v; }),
        marker: { color: OI[0] }, text: shown.map(function (r) { return IKMS.fmt(r.v, c.unit); }), textposition: "auto",
        hovertemplate: "%{y}: %{text}<extra></extra>" }],
        { height: Math.max(220, 22 * shown.length + 60), margin: { l: 260, r: 10, t: 10, b: 30 },
          xaxis: yAxis(c.unit), yaxis: { automargin: true, type: "category" }, showlegend: false });
    }
    sel.addEventListener("change", draw);
    drawers.push({ _ikmsDone: true, _ikmsDraw: function () {
      for (var i = 0; i < sel.options.length; i++) sel.options[i].textContent = name(sel.options[i].value);
      draw();
    } });
    draw();
  }

  /* ---------- explorer ---------- */
  var store = {};
  IKMS.register = function (obj) { store[obj.id + "|" + obj.dim] = obj; var cb = pending[obj.id + "|" + obj.dim]; if (cb) { delete pending[obj.id + "|" + obj.dim]; cb.forEach(function (f) { f(obj); }); } };
  var pending = {};
  /* load data/ind/<id>[.<dim>].js by inserting a script tag (works from file://) */
  IKMS.load = function (id, dim, cb) {
    var key = id + "|" + dim;
    if (store[key]) { cb(store[key]); return; }
    if (pending[key]) { pending[key].push(cb); return; }
    pending[key] = [cb];
    var s = document.createElement("script");
    s.src = document.body.dataset.root + "data/ind/" + id + (dim === "_T" ? "" : "." + dim) + ".js";
    s.onerror = function () { delete pending[key]; cb(null); };
    document.head.appendChild(s);
  };
  function fillSelect(sel, options, value) {
    sel.textContent = "";
    options.forEach(function (o) { var e = el("option", null, o[1]); e.value = o[0]; sel.appendChild(e); });
    if (value !== undefined && options.some(function (o) { return String(o[0]) === String(value); })) sel.value = value;
  }
  function indicatorOptions() {
    var c = meta().catalogue;
    return Object.keys(c).sort(function (a, b) { return (c[a].domain - c[b].domain) || (a < b ? -1 : 1); })
      .map(function (id) { return [id, c[id].domain + " · " + name(id)]; });
  }
  pages.explorer = function () {
    var $ = function (i) { return document.getElementById(i); };
    var q = new URLSearchParams(window.location.search);
    var st = { compare: q.get("unit") ? [q.get("unit")] : [] };
    function setup() {
      fillSelect($("x-indicator"), indicatorOptions(), $("x-indicator").value || q.get("indicator") || "ABS_RATE");
    }
    function levelOptions() {
      var c = cat($("x-indicator").value);
      return ["institution", "municipality", "national"].filter(function (l) { return c.levels.indexOf(l) >= 0; })
        .map(function (l) { return [l, IKMS.t("level_" + l)]; });
    }
    function refreshControls() {
      var c = cat($("x-indicator").value);
      fillSelect($("x-level"), levelOptions(), $("x-level").value || q.get("level") || "municipality");
      fillSelect($("x-year"), meta().years.map(function (y, k) { return [y, yl()[k]]; }), $("x-year").value || meta().last_year[$("x-indicator").value]);
      var dims = (meta().breakdowns || {})[$("x-indicator").value] || [];
      fillSelect($("x-dim"), [["_T", IKMS.t("total")]].concat(dims.map(function (d) { return [d, meta().dims[d] ? meta().dims[d][IKMS.lang()] : d]; })), $("x-dim").value);
      var about = $("x-about"); about.textContent = "";
      about.appendChild(el("p", "def", c.definition)); about.appendChild(el("p", "ref", c.reference + ". VIIS / IZM."));
      var level = $("x-level").value, dl = $("x-units"); dl.textContent = "";
      unitList(level).forEach(function (u) { var o = el("option"); o.value = u[1] + " [" + u[0] + "]"; dl.appendChild(o); });
    }
    function unitList(level) {
      if (level === "municipality") return Object.keys(meta().munis).map(function (k) { return [k, meta().munis[k]]; });
      if (level === "institution" && window.IKMS_UNITS) return window.IKMS_UNITS.u.map(function (u, k) { return [u, window.IKMS_UNITS.n[k]]; });
      return [];
    }
    /* the rows of one level for the chosen category: totals, or the breakdown file's rows of that code */
    function slice(tot, br, level, code) {
      if (!br) return tot.levels[level] || { unit_code: [], v: [], f: [] };
      var L = br.levels[level], out = { unit_code: [], v: [], f: [] };
      if (!L) return out;
      L.code.forEach(function (c, k) { if (c === code) { out.unit_code.push(L.unit_code[k]); out.v.push(L.v[k]); out.f.push(L.f[k]); } });
      return out;
    }
    function draw() {
      var id = $("x-indicator").value, dim = $("x-dim").value;
      IKMS.load(id, "_T", function (tot) {
        if (!tot) return;
        if (dim === "_T") { drawAll(id, tot, null); return; }
        IKMS.load(id, dim, function (br) { drawAll(id, tot, br); });
      });
    }
    function drawAll(id, tot, br) {
      var level = $("x-level").value, dim = $("x-dim").value, yi = meta().years.indexOf(Number($("x-year").value)), c = cat(id);
      if (br) {
        var codes = [];
        Object.keys(br.levels).forEach(function (lv) { br.levels[lv].code.forEach(function (x) { if (codes.indexOf(x) < 0) codes.push(x); }); });
        codes.sort(function (a, b) { var na = Number(a), nb = Number(b); return (isNaN(na) || isNaN(nb)) ? (a < b ? -1 : 1) : na - nb; });
        fillSelect($("x-code"), codes.map(function (x) { return [x, dimLabel(dim, x)]; }), $("x-code").value);
      } else fillSelect($("x-code"), [["_T", IKMS.t("total")]]);
      var code = $("x-code").value, catTxt = br ? " · " + dimLabel(dim, code) : "";
      var L = slice(tot, br, level, code), vals = [], labels = [], codesOf = [], supp = 0;
      L.unit_code.forEach(function (u, k) {
        if (L.v[k][yi] !== null) { vals.push(L.v[k][yi]); labels.push(unitName(level, u)); codesOf.push(u); }
        else if (L.f[k][yi] === "c") supp++;
      });
      var yearTxt = yl()[yi] + catTxt + (supp ? " · c: " + supp : "");
      plot($("x-dist"), [{ type: "histogram", x: vals, marker: { color: OI[0] }, name: IKMS.t("distribution") },
        { type: "box", x: vals, yaxis: "y2", marker: { color: OI[1] }, name: "", boxpoints: false, hoverinfo: "x" }],
        { height: 320, title: { text: IKMS.t("distribution") + ", " + yearTxt, font: { size: 13 }, x: 0 }, margin: { l: 50, r: 10, t: 35, b: 40 },
          yaxis: { title: { text: IKMS.t("count") }, domain: [0, 0.75], rangemode: "tozero" }, yaxis2: { domain: [0.8, 1], showticklabels: false },
          xaxis: { ticksuffix: c.unit === "percent" ? "%" : "" }, showlegend: false });
      var order = vals.map(function (v, k) { return k; }).sort(function (a, b) { return (vals[a] - vals[b]) || (labels[a] < labels[b] ? -1 : 1); });
      var cut = order.length > 60;
      if (cut) order = order.slice(0, 30).concat(order.slice(order.length - 30));
      plot($("x-rank"), [{ type: "bar", orientation: "h", y: order.map(function (k) { return labels[k] + " "; }), x: order.map(function (k) { return vals[k]; }),
        marker: { color: order.map(function (k) { return st.compare.indexOf(codesOf[k]) >= 0 ? OI[6] : OI[0]; }) },
        text: order.map(function (k) { return IKMS.fmt(vals[k], c.unit); }), hovertemplate: "%{y}: %{text}<extra></extra>", textposition: "none" }],
        { height: Math.max(320, 16 * order.length + 60), margin: { l: 220, r: 10, t: 35, b: 30 }, xaxis: yAxis(c.unit),
          yaxis: { type: "category", automargin: true, tickfont: { size: 10 } }, showlegend: false,
          title: { text: IKMS.t("ranking") + ", " + yearTxt + (cut ? " (30 + 30)" : ""), font: { size: 13 }, x: 0 } });
      var N = slice(tot, br, "national", code), natS = N.unit_code.length ? { v: N.v[0], f: N.f[0] } : nat(id);
      var series = [{ label: IKMS.t("nat"), v: natS.v, f: natS.f, color: OI[3], width: 3 }];
      st.compare.forEach(function (u, k) {
        var i = L.unit_code.indexOf(u);
        if (i >= 0) series.push({ label: unitName(level, u), v: L.v[i], f: L.f[i], color: [OI[0], OI[1], OI[2], OI[4], OI[5]][k] });
      });
      IKMS.trend($("x-trend"), id, series, null, IKMS.t("trend") + catTxt);
      drawBreakdown(id, br, level, dim, yi);
    }
    function drawBreakdown(id, br, level, dim, yi) {
      var div = $("x-breakdown");
      if (!br) { Plotly.purge(div); div.textContent = ""; div.appendChild(el("p", "muted", IKMS.t("breakdown") + ": " + IKMS.t("none"))); return; }
      var L = br.levels[level], c = cat(id), units = st.compare.length ? st.compare.slice() : [level === "national" ? "LV" : null];
      if (!L) { div.textContent = IKMS.t("nodata"); return; }
      var codes = [];
      L.code.forEach(function (x) { if (codes.indexOf(x) < 0) codes.push(x); });
      codes.sort(function (a, b) { var na = Number(a), nb = Number(b); return (isNaN(na) || isNaN(nb)) ? (a < b ? -1 : 1) : na - nb; });
      if (units[0] === null) units = [L.unit_code[0]];
      div.textContent = "";
      var traces = units.map(function (u, k) {
        var y = codes.map(function (code) {
          for (var i = 0; i < L.unit_code.length; i++) if (L.unit_code[i] === u && L.code[i] === code) return L.v[i][yi];
          return null;
        });
        return { type: "bar", name: unitName(level, u), x: codes.map(function (x) { return dimLabel(dim, x); }), y: y,
          marker: { color: [OI[0], OI[1], OI[2], OI[4], OI[5]][k] }, text: y.map(function (v) { return IKMS.fmt(v, c.unit); }),
          hovertemplate: "%{x}: %{text}<extra>%{fullData.name}</extra>", textposition: "none" };
      });
      plot(div, traces, { height: 340, barmode: "group", yaxis: yAxis(c.unit), xaxis: { type: "category", automargin: true }, showlegend: true,
        margin: { l: 50, r: 10, t: 35, b: 40 }, legend: { orientation: "h", yanchor: "top", y: -0.3 },
        title: { text: IKMS.t("breakdown") + ": " + (meta().dims[dim] ? meta().dims[dim][IKMS.lang()] : dim) + ", " + yl()[yi], font: { size: 13 }, x: 0 } });
    }
    function chips() {
      var box = $("x-compare-chips"); box.textContent = "";
      st.compare.forEach(function (u) {
        var b = el("button", "chip", unitName($("x-level").value, u) + " ×"); b.type = "button";
        b.addEventListener("click", function () { st.compare = st.compare.filter(function (x) { return x !== u; }); chips(); draw(); });
        box.appendChild(b);
      });
    }
    $("x-compare-add").addEventListener("click", function () {
      var m = /\[([^\]]+)\]\s*$/.exec($("x-compare-input").value);
      if (!m) return;
      if (st.compare.length >= 5) { window.alert(IKMS.t("max5")); return; }
      if (st.compare.indexOf(m[1]) < 0) st.compare.push(m[1]);
      $("x-compare-input").value = ""; chips(); draw();
    });
    $("x-indicator").addEventListener("change", function () { defaultDim(); refreshControls(); draw(); });
    function defaultDim() {
      var d = (meta().breakdowns || {})[$("x-indicator").value] || [];  // dimensions with a breakdown file
      fillSelect($("x-dim"), [["_T", IKMS.t("total")]].concat(d.map(function (x) { return [x, x]; })), q.get("dim") || d[0] || "_T");
      $("x-code").textContent = "";
    }
    $("x-level").addEventListener("change", function () { st.compare = []; chips(); refreshControls(); draw(); });
    $("x-dim").addEventListener("change", function () { $("x-code").textContent = ""; draw(); });
    ["x-year", "x-code"].forEach(function (i) { $(i).addEventListener("change", draw); });
    setup(); defaultDim(); refreshControls(); chips(); draw();
    drawers.push({ _ikmsDone: true, _ikmsDraw: function () { var v = $("x-indicator").value; setup(); $("x-indicator").value = v; refreshControls(); draw(); } });
  };

  /* ---------- maps ---------- */
  function viridis(t) {
    if (t === null || isNaN(t)) return "#d9d9d9";
    t = Math.max(0, Math.min(1, t));
    return VIRIDIS[Math.round(t * (VIRIDIS.length - 1))];
  }
  pages.map = function (p) {
    var $ = function (i) { return document.getElementById(i); };
    fillSelect($("m-indicator"), indicatorOptions(), "ABS_RATE");
    function years() { fillSelect($("m-year"), meta().years.map(function (y, k) { return [y, yl()[k]]; }), $("m-year").value || meta().last_year[$("m-indicator").value]); }
    years();
    function draw() {
      var id = $("m-indicator").value, yi = meta().years.indexOf(Number($("m-year").value)), c = cat(id);
      var about = $("m-about"); about.textContent = ""; about.appendChild(el("p", "def", name(id) + ": " + c.definition));
      about.appendChild(el("p", "ref", c.reference + ". VIIS / IZM."));
      var M = (window.IKMS_MUNIS || {})[id] || { unit_code: [], v: [], f: [] }, byCode = {};
      M.unit_code.forEach(function (u, k) { byCode[u] = { v: M.v[k][yi], f: M.f[k][yi] }; });
      var vals = M.unit_code.map(function (u) { return byCode[u].v; }).filter(function (v) { return v !== null; });
      var lo = Math.min.apply(null, vals.concat([Infinity])), hi = Math.max.apply(null, vals.concat([-Infinity]));
      if (c.unit === "percent" || c.unit === "count") lo = Math.min(lo, 0);
      function norm(v) { return v === null || hi === lo ? (v === null ? null : 0.5) : (v - lo) / (hi - lo); }
      var tiles = p.tiles, shapes = [], tx = [], ty = [], tt = [], th = [];
      tiles.municipality_code.forEach(function (code, k) {
        var r = tiles.row[k], col = tiles.col[k], d = byCode[code] || { v: null, f: "." };
        shapes.push({ type: "rect", layer: "below", x0: col + 0.04, x1: col + 0.96, y0: -r - 0.96, y1: -r - 0.04, line: { color: "#fff", width: 1 },
          fillcolor: viridis(norm(d.v)) });
        var nm = meta().munis[code] || code;
        // cities in capitals (VENT), municipalities (novadi) as Vent: both exist for several names
        var ab = /novads$/.test(nm) ? nm.slice(0, 4) : nm.slice(0, 4).toUpperCase();
        tx.push(col + 0.5); ty.push(-r - 0.5); tt.push(ab + (d.f === "c" ? " c" : ""));
        th.push(nm + ": " + IKMS.fmt(d.v, c.unit, d.f) + (d.f === "c" ? " (" + IKMS.t("confidential") + ")" : ""));
      });
      var colorbar = { type: "scatter", mode: "markers", x: [null], y: [null], hoverinfo: "skip", showlegend: false,
        marker: { colorscale: "Viridis", cmin: isFinite(lo) ? lo : 0, cmax: isFinite(hi) ? hi : 1, color: [lo], showscale: true,
          colorbar: { thickness: 12, ticksuffix: c.unit === "percent" ? "%" : "" } } };
      var tdiv = $("tile-map");
      tdiv.dataset.tiles = String(tiles.municipality_code.length);
      plot(tdiv, [{ type: "scatter", mode: "text", x: tx, y: ty, text: tt, hovertext: th, hoverinfo: "text",
        textfont: { size: 10, color: tt.map(function (t, k) { var d = byCode[tiles.municipality_code[k]]; var t = d ? norm(d.v) : null; return t === null || t > 0.6 ? "#000" : "#fff"; }) },
        showlegend: false }, colorbar],
        { height: 460, shapes: shapes, xaxis: { visible: false, range: [-0.2, 10.2] }, yaxis: { visible: false, scaleanchor: "x", range: [-6.2, 0.2] },
          margin: { l: 10, r: 10, t: 10, b: 10 } });
      if (p.boundaries && $("choropleth")) {
        var traces = Object.keys(p.boundaries).sort().map(function (code) {
          var d = byCode[code] || { v: null, f: "." }, b = p.boundaries[code];
          return { type: "scatter", mode: "lines", fill: "toself", x: b[0], y: b[1], fillcolor: viridis(norm(d.v)), line: { color: "#fff", width: 0.5 },
            name: meta().munis[code] || code, text: (meta().munis[code] || code) + ": " + IKMS.fmt(d.v, c.unit, d.f), hoverinfo: "text", hoveron: "fills", showlegend: false };
        });
        plot($("choropleth"), traces.concat([colorbar]), { height: 460, xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x" }, margin: { l: 10, r: 10, t: 10, b: 10 } });
      }
      pointMap(id, yi, c);
    }
    function pointMap(id, yi, c) {
      var outline = p.outline.map(function (xy) {
        return { type: "scatter", mode: "lines", x: xy[0], y: xy[1], fill: "toself", fillcolor: "#f2f2f2", line: { color: "#888", width: 1 }, hoverinfo: "skip", showlegend: false };
      });
      var levels = cat(id).levels;
      var U = window.IKMS_UNITS;
      if (levels.indexOf("institution") < 0 || !U) {
        plot($("point-map"), outline.concat([{ type: "scatter", mode: "markers", x: U ? U.x : [], y: U ? U.y : [], marker: { size: 5, color: "#555" },
          text: U ? U.n : [], hoverinfo: "text", showlegend: false }]), { height: 460, xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x" }, margin: { l: 10, r: 10, t: 10, b: 10 } });
        return;
      }
      IKMS.load(id, "_T", function (tot) {
        var L = (tot && tot.levels.institution) || { unit_code: [], v: [], f: [] }, pos = {};
        U.u.forEach(function (u, k) { pos[u] = k; });
        var xs = [], ys = [], cs = [], ts = [], gx = [], gy = [], gt = [];
        L.unit_code.forEach(function (u, k) {
          var i = pos[u]; if (i === undefined || U.x[i] === null) return;
          var v = L.v[k][yi], f = L.f[k][yi];
          if (v !== null) { xs.push(U.x[i]); ys.push(U.y[i]); cs.push(v); ts.push(U.n[i] + ": " + IKMS.fmt(v, c.unit)); }
          else if (f === "c") { gx.push(U.x[i]); gy.push(U.y[i]); gt.push(U.n[i] + ": c — " + IKMS.t("confidential")); }
        });
        plot($("point-map"), outline.concat([
          { type: "scatter", mode: "markers", x: gx, y: gy, text: gt, hoverinfo: "text", name: "c", marker: { symbol: "x-thin-open", size: 7, color: "#D55E00" } },
          { type: "scatter", mode: "markers", x: xs, y: ys, text: ts, hoverinfo: "text", name: name(id),
            marker: { size: 7, color: cs, colorscale: "Viridis", showscale: true, line: { color: "#333", width: 0.5 }, colorbar: { thickness: 12 }, cmin: (c.unit === "percent" ? 0 : undefined) } }]),
          { height: 460, xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x" }, margin: { l: 10, r: 10, t: 10, b: 10 }, showlegend: true, legend: { orientation: "h" } });
      });
    }
    $("m-indicator").addEventListener("change", function () { years(); draw(); });
    $("m-year").addEventListener("change", draw);
    draw();
    drawers.push({ _ikmsDone: true, _ikmsDraw: function () { var v = $("m-indicator").value; fillSelect($("m-indicator"), indicatorOptions(), v); draw(); } });
  };

  /* ---------- data quality ---------- */
  pages.quality = function (p) {
    var $ = function (i) { return document.getElementById(i); };
    function lines(div, data, key) {
      if (!data) { div.textContent = IKMS.t("nodata"); return; }
      var feeds = Object.keys(data).sort();
      plot(div, feeds.map(function (f, k) {
        return { type: "scatter", mode: "lines+markers", name: f, connectgaps: false, line: { color: OI[k % OI.length] },
          x: data[f].school_year.map(function (y) { return yl()[meta().years.indexOf(y)] || String(y); }), y: data[f].pct };
      }), { height: 300, yaxis: { rangemode: "tozero", range: [0, 101], ticksuffix: "%" }, xaxis: { type: "category" },
        title: { text: IKMS.t(key), font: { size: 13 }, x: 0 }, margin: { l: 50, r: 10, t: 35, b: 40 } });
    }
    function draw() {
      lines($("q-completeness"), p.completeness, "completeness");
      lines($("q-timeliness"), p.timeliness, "timeliness");
      var t = p.table;
      if (t) plot($("q-hist"), [{ type: "histogram", x: t.completeness_pct, name: IKMS.t("completeness"), marker: { color: OI[0] }, opacity: 0.7 },
        { type: "histogram", x: t.on_time_pct, name: IKMS.t("timeliness"), marker: { color: OI[1] }, opacity: 0.7 }],
        { height: 300, barmode: "overlay", yaxis: { title: { text: IKMS.t("n_inst") } }, xaxis: { ticksuffix: "%", range: [0, 101] },
          title: { text: IKMS.t("n_inst") + ", " + (yl()[meta().years.indexOf(p.year)] || p.year), font: { size: 13 }, x: 0 }, margin: { l: 50, r: 10, t: 35, b: 40 } });
    }
    function byMuni() {
      var b = p.by_muni, div = $("q-muni");
      if (!b || !div) return;
      plot(div, [{ type: "bar", orientation: "h", y: b.municipality_code.map(function (c) { return meta().munis[c] || c; }), x: b.pct,
        marker: { color: OI[0] }, text: b.pct.map(function (v) { return IKMS.fmt(v, "percent"); }), textposition: "none",
        hovertemplate: "%{y}: %{text}<extra></extra>" }],
        { height: Math.max(300, 16 * b.pct.length + 60), margin: { l: 160, r: 10, t: 35, b: 30 }, xaxis: { range: [0, 101], ticksuffix: "%" },
          yaxis: { type: "category", automargin: true, tickfont: { size: 10 } }, showlegend: false,
          title: { text: IKMS.t("completeness") + " · " + IKMS.t("all_munis") + ", " + (yl()[meta().years.indexOf(b.year)] || b.year), font: { size: 13 }, x: 0 } });
    }
    var t = p.table, tbody = document.querySelector("#q-table tbody");
    if (t) {
      var pct = function (v) { return IKMS.fmt(v, "percent"); };
      t.reg_nr.forEach(function (r, k) {
        var tr = el("tr"), td = el("td"), a = el(t.has_page[k] ? "a" : "span", null, t.institution_name[k] || r);
        if (t.has_page[k]) a.href = "inst/" + r + ".html";  // institutions without indicator values have no page
        td.appendChild(a); tr.appendChild(td);
        [meta().munis[t.municipality_code[k]] || t.municipality_code[k], t.n_expected[k], t.n_missing[k], t.n_late[k],
          pct(t.completeness_pct[k]), pct(t.on_time_pct[k]), t.max_days_late[k],
          t.quarantine_share ? IKMS.fmt(t.quarantine_share[k] === null ? null : 100 * t.quarantine_share[k], "percent") : "",
          t.top_quarantine_rule ? t.top_quarantine_rule[k] : ""].forEach(function (v) {
          tr.appendChild(el("td", typeof v === "number" ? "num" : null, v === null || v === undefined ? "–" : String(v)));
        });
        tbody.appendChild(tr);
      });
    }
    draw(); byMuni();
    drawers.push({ _ikmsDone: true, _ikmsDraw: function () { draw(); byMuni(); } });
  };

  pages.list = function () {};

  function filterBox() {
    var f = document.getElementById("filter");
    if (!f) return;
    f.addEventListener("input", function () {
      var q = f.value.toLowerCase();
      document.querySelectorAll(f.dataset.filter).forEach(function (r) { r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none"; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    applyLang();
    var b = document.getElementById("lang-toggle");
    if (b) b.addEventListener("click", function () { IKMS.setLang(IKMS.lang() === "lv" ? "en" : "lv"); });
    filterBox();
    var page = document.body.dataset.page;
    if (pages[page]) pages[page](payload());
  });
})();
