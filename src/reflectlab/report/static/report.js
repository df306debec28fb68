/* reflectlab report viewer: draws the Vega-Lite charts and runs the trace viewer.
 *
 * Data arrives in inert <script> blocks (JSON, or gzip+base64 decompressed natively with
 * DecompressionStream). The list pages through an index of rows; a trace chunk is decoded only
 * when one of its samples is opened. Model-written text is untrusted: it is only ever placed
 * with textContent / text nodes, never parsed as HTML.
 */
(function () {
  "use strict";

  var PAGE = 50;
  var FLAG = { correct: 1, rw: 2, wr: 4, oracle: 8, noAnswer: 16, error: 32 };

  function $(id) { return document.getElementById(id); }

  /* el("div", {class: "x"}, "text", node, ...): strings become text nodes, never markup. */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "class") node.className = v;
        else if (k === "onclick") node.addEventListener("click", v);
        else node.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function text(value, cls) { return el("div", { class: "text" + (cls ? " " + cls : "") }, value); }
  function fmt(n, digits) {
    if (n === null || n === undefined) return "-";
    return Number(n).toLocaleString("en-US", { maximumFractionDigits: digits || 0 });
  }
  function readJSON(id) {
    var node = $(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  async function decodeBlock(id) {
    var node = $(id);
    if (!node) throw new Error("report block #" + id + " is missing");
    if (typeof DecompressionStream === "undefined") {
      throw new Error("this browser cannot decompress the traces (no DecompressionStream); use a current Chrome, Firefox or Safari");
    }
    var binary = atob(node.textContent.trim());
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  /* ---------------------------------------------------------------- charts */
  /* Single and layered charts have width "container" and follow their figure by themselves.
   * Facets and side-by-side panels cannot, so fitSpec sizes them to the figure; on a narrow
   * screen it also puts legends below the plot and wraps titles. Charts are redrawn when the
   * window is resized and that changes what fitSpec gives. */
  var NARROW = 640;
  var chartSpecs = {};   // id -> spec as rendered by Python
  var chartViews = {};   // id -> {view, fitted (JSON of the spec drawn)}

  function wrapLines(value, max) {
    var out = [];
    [].concat(value).forEach(function (line) {
      var cur = "";
      String(line).split(" ").forEach(function (word) {
        if (cur && (cur + " " + word).length > max) { out.push(cur); cur = word; }
        else cur = cur ? cur + " " + word : word;
      });
      if (cur) out.push(cur);
    });
    return out.length > 1 ? out : out[0];
  }

  function fitSpec(spec, width) {
    var s = JSON.parse(JSON.stringify(spec));
    var narrow = width < NARROW;
    var legendW = narrow ? 0 : 190;
    // Titles start at the left edge and wrap: a title wider than its plot is never cut.
    s.config = Object.assign({}, s.config, { title: { anchor: "start" } });
    if (s.title && typeof s.title === "object") {
      var max = Math.max(24, Math.floor(width / 7.5));
      s.title.text = wrapLines(s.title.text, max);
      if (s.title.subtitle) s.title.subtitle = wrapLines(s.title.subtitle, Math.floor(max * 1.15));
    }
    if (narrow) {
      s.config.legend = {
        orient: "bottom", direction: "vertical",
        labelLimit: Math.max(120, width - 60), titleLimit: Math.max(120, width - 40),
      };
      if (s.encoding && s.encoding.x && s.encoding.x.axis) {
        s.encoding.x.axis = Object.assign({}, s.encoding.x.axis, { labelAngle: -40, labelLimit: 110 });
      }
    }
    var panels = s.hconcat;
    if (panels) {
      var each = Math.floor((width - legendW) / panels.length) - 80;
      if (each < 220) {  // one under the other
        s.vconcat = panels;
        delete s.hconcat;
        each = width - legendW - 80;
      }
      panels.forEach(function (p) { p.width = Math.max(140, Math.min(p.width || 340, each)); });
    }
    if (s.facet && s.spec) {
      var cell = Math.max(140, Math.min(s.spec.width || 220, width - legendW - 80));
      s.spec.width = cell;
      s.columns = Math.max(1, Math.min(s.columns || 3, Math.floor((width - legendW) / (cell + 70))));
    }
    return s;
  }

  async function drawChart(id) {
    var holder = $(id);
    if (!holder) return;
    var fitted = fitSpec(chartSpecs[id], holder.clientWidth || window.innerWidth);
    var key = JSON.stringify(fitted);
    var old = chartViews[id];
    if (old && old.fitted === key) return;
    try {
      var compiled = vegaLite.compile(fitted).spec;
      if (old) old.view.finalize();
      holder.textContent = "";
      var view = new vega.View(vega.parse(compiled), { renderer: "svg", container: holder, hover: true });
      chartViews[id] = { view: view, fitted: key };
      await view.runAsync();
    } catch (err) {
      holder.textContent = "";
      holder.appendChild(el("p", { class: "chart-error" }, "could not draw this chart: " + err));
      console.error("chart " + id, err);
    }
  }

  async function drawCharts() {
    chartSpecs = readJSON("charts-json") || {};
    var ids = Object.keys(chartSpecs);
    for (var k = 0; k < ids.length; k++) await drawChart(ids[k]);
  }

  // After a burst of resize events (a window being dragged), refit once; `redrawn` resolves
  // when the tables and charts fit the new width.
  var resizeTimer = null, resizeDone = null;
  window.addEventListener("resize", function () {
    trackHeader();
    if (!resizeDone) window.reflectlab.redrawn = new Promise(function (resolve) { resizeDone = resolve; });
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      var done = resizeDone;
      resizeDone = null;
      fitTables();
      Promise.all(Object.keys(chartSpecs).map(drawChart)).then(done, done);
    }, 150);
  });

  /* A table too wide for the page first lets its cells wrap (CSS .tight), then becomes one
   * card per row (.cards) instead of scrolling sideways, so its last column (notes, errors,
   * stop reasons) is never off screen. */
  function fitTables() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-cards"), function (box) {
      box.classList.remove("tight", "cards");
      var over = function () { return box.scrollWidth > box.clientWidth + 1; };
      if (over()) box.classList.add("tight");
      if (over()) { box.classList.remove("tight"); box.classList.add("cards"); }
    });
  }

  /* The sticky header wraps on a narrow screen: CSS reads its height to keep linked-to
   * content (a #trace=... deep link) below it. */
  function trackHeader() {
    var header = document.querySelector("header.top");
    if (header) document.documentElement.style.setProperty("--header-h", header.offsetHeight + "px");
  }

  /* ---------------------------------------------------------------- trace data */
  var index = null;          // {strategies, samples, rows, chunks}
  var chunkCache = {};       // chunk number -> Promise(chunk)
  var bySample = {};         // sample number -> [row number]
  var haystacks = null;      // per block: lower-case strings, and each result's string ids
  var filtered = [];
  var page = 0;
  var selected = null;       // row number
  // --compare: the other run's traces on the shared samples, paired by strategy and sample id
  var other = null;          // {info, index, byKey: "strategy\nsample id" -> row, chunks: {}}
  var sideBySide = false;

  var TRACE_LIMIT_NOTE = (function () {
    var node = document.getElementById("trace-limit");
    return node ? node.getAttribute("data-what") : "";
  })();

  function chunk(n) {
    if (!chunkCache[n]) chunkCache[n] = decodeBlock("trace-chunk-" + n);
    return chunkCache[n];
  }
  function otherChunk(n) {
    if (!other.chunks[n]) other.chunks[n] = decodeBlock("compare-chunk-" + n);
    return other.chunks[n];
  }

  function rowOf(idx, r) {
    var x = idx.rows[r];
    return { r: r, s: x[0], i: x[1], traj: x[2], flags: x[3], ans: x[4], calls: x[5], tokens: x[6], chunk: x[7] };
  }
  function row(r) { return rowOf(index, r); }
  function pairKey(idx, x) { return idx.strategies[x.s] + "\n" + idx.samples[x.i][0]; }
  function otherRow(x) {
    if (!other) return null;
    var r = other.byKey[pairKey(index, x)];
    return r === undefined ? null : rowOf(other.index, r);
  }

  /* Deep search: per block, its string table in lower case (each distinct text once, however
   * many results resend it) and the ids of the texts each result shows. A query scans each
   * block's distinct texts once, not every result's whole conversation. */
  async function buildHaystacks() {
    if (haystacks) return haystacks;
    var out = [];
    for (var n = 0; n < index.chunks; n++) {
      $("p-info").textContent = "searching traces: block " + (n + 1) + " of " + index.chunks + "…";
      var c = await chunk(n);
      var results = {};
      Object.keys(c.results).forEach(function (key) {
        var res = c.results[key];
        var ids = new Set();
        var sample = c.samples[key.split(":")[1]];
        if (sample) ids.add(sample.input);
        if (res.final !== undefined) ids.add(res.final);
        (res.feedback || []).forEach(function (f) { ids.add(f.text); });
        res.steps.forEach(function (st) {
          if (st.t === "call") {
            st.msgs.forEach(function (m) { ids.add(m[1]); });
            (st.out || []).forEach(function (o) { ids.add(o); });
          } else if (st.t === "cp") ids.add(st.resp);
        });
        results[key] = Array.from(ids);
      });
      out.push({ lower: c.strings.map(function (t) { return t.toLowerCase(); }), results: results });
    }
    haystacks = out;
    return out;
  }

  function deepMatches(hay, q) {
    var found = new Set();
    hay.forEach(function (block) {
      var hit = new Uint8Array(block.lower.length);
      for (var k = 0; k < block.lower.length; k++) if (block.lower[k].indexOf(q) >= 0) hit[k] = 1;
      Object.keys(block.results).forEach(function (key) {
        if (block.results[key].some(function (id) { return hit[id]; })) found.add(key);
      });
    });
    return found;
  }

  async function applyFilters() {
    var q = $("f-search").value.trim().toLowerCase();
    var deep = $("f-deep").checked && q.length > 0;
    var strategy = $("f-strategy").value;
    var outcome = $("f-outcome").value;
    var flip = $("f-flip").value;
    // "k:1" = correct at round k, "k:0" = wrong at round k; a sample that stopped early keeps
    // its last answer in later rounds (the rule of the accuracy-by-round plot)
    var atRound = $("f-round").value ? $("f-round").value.split(":") : null;
    var rk = atRound ? Number(atRound[0]) : 0;
    var vs = other ? $("f-compare").value : "";
    var hits = deep ? deepMatches(await buildHaystacks(), q) : null;
    var out = [];
    for (var r = 0; r < index.rows.length; r++) {
      var x = index.rows[r];
      var flags = x[3];
      if (strategy !== "" && String(x[0]) !== strategy) continue;
      if (outcome === "correct" && !(flags & FLAG.correct)) continue;
      if (outcome === "incorrect" && (flags & FLAG.correct)) continue;
      if (flip === "rw" && !(flags & FLAG.rw)) continue;
      if (flip === "wr" && !(flags & FLAG.wr)) continue;
      if (flip === "none" && (flags & (FLAG.rw | FLAG.wr))) continue;
      if (atRound && (!x[2].length || x[2][Math.min(rk, x[2].length - 1)] !== atRound[1])) continue;
      if (vs) {
        var there = other.byKey[index.strategies[x[0]] + "\n" + index.samples[x[1]][0]];
        if (vs === "missing" ? there !== undefined : there === undefined) continue;
        var okHere = !!(flags & FLAG.correct), okThere = there !== undefined && !!(other.index.rows[there][3] & FLAG.correct);
        if (vs === "here" && !(okHere && !okThere)) continue;
        if (vs === "there" && !(!okHere && okThere)) continue;
        if (vs === "differ" && okHere === okThere) continue;
        if (vs === "same" && okHere !== okThere) continue;
      }
      if (q) {
        var s = index.samples[x[1]];
        var shallow = (s[0] + "\n" + s[1] + "\n" + s[2] + "\n" + (x[4] || "")).toLowerCase();
        if (shallow.indexOf(q) < 0 && !(hits && hits.has(x[0] + ":" + x[1]))) continue;
      }
      out.push(r);
    }
    filtered = out;
    page = 0;
    renderPage();
  }

  function trajectory(traj, flags) {
    var parts = [];
    for (var k = 0; k < traj.length; k++) {
      if (k) parts.push(" → ");
      parts.push(el("span", { class: traj[k] === "1" ? "mark-ok" : "mark-bad" }, traj[k] === "1" ? "✓" : "✗"));
    }
    if (!traj.length) parts.push("-");
    if (flags & FLAG.rw) parts.push(el("span", { class: "tag tag-warn" }, "right→wrong"));
    if (flags & FLAG.wr) parts.push(el("span", { class: "tag tag-ok" }, "wrong→right"));
    return parts;
  }

  function strategyCell(s, flags) {
    return [index.strategies[s], flags & FLAG.oracle ? el("span", { class: "tag tag-warn" }, "ORACLE") : null];
  }

  function otherTag(x) {
    if (!other) return null;
    var y = otherRow(x);
    if (!y) return el("span", { class: "tag", title: "not in run " + other.info.run_id }, "other run: –");
    var ok = y.flags & FLAG.correct;
    return el("span", { class: "tag " + (ok ? "tag-ok" : "tag-bad"), title: "in run " + other.info.run_id }, "other run: " + (ok ? "✓" : "✗"));
  }

  function renderPage() {
    var body = $("trace-rows");
    body.textContent = "";
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE));
    page = Math.min(Math.max(page, 0), pages - 1);
    var start = page * PAGE;
    var end = Math.min(filtered.length, start + PAGE);
    for (var k = start; k < end; k++) {
      var x = row(filtered[k]);
      var s = index.samples[x.i];
      var ok = x.flags & FLAG.correct;
      var tr = el("tr", { tabindex: 0, "data-row": x.r, class: x.r === selected ? "selected" : null },
        el("td", { class: "mono" }, s[0]),
        el("td", null, strategyCell(x.s, x.flags), otherTag(x)),
        el("td", { class: "input", title: s[1] }, s[1]),
        el("td", { class: "mono" }, s[2]),
        el("td", null, el("span", { class: ok ? "mark-ok" : "mark-bad" }, ok ? "✓ " : "✗ "),
          x.flags & FLAG.noAnswer ? el("i", null, "no answer") : (x.ans === null ? "-" : x.ans)),
        el("td", null, trajectory(x.traj, x.flags)),
        el("td", { class: "r" }, fmt(x.calls)),
        el("td", { class: "r" }, fmt(x.tokens)));
      tr.addEventListener("click", onRowClick);
      tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter") onRowClick.call(this, ev); });
      body.appendChild(tr);
    }
    $("p-info").textContent = filtered.length
      ? "rows " + fmt(start + 1) + "–" + fmt(end) + " of " + fmt(filtered.length) + " (page " + (page + 1) + " of " + pages + ")"
      : "no sample matches these filters";
    $("p-prev").disabled = page === 0;
    $("p-next").disabled = page >= pages - 1;
  }

  function onRowClick() {
    var r = Number(this.getAttribute("data-row"));
    openRow(r, true);
  }

  /* ---------------------------------------------------------------- one trace */
  function openRow(r, scroll) {
    selected = r;
    Array.prototype.forEach.call($("trace-rows").children, function (tr) {
      tr.className = Number(tr.getAttribute("data-row")) === r ? "selected" : "";
    });
    var x = row(r);
    var y = sideBySide ? otherRow(x) : null;
    if (x.chunk < 0) {  // beyond the report's trace limit: listed, but its steps are not here
      var none = $("trace-view");
      none.hidden = false;
      none.textContent = "";
      none.appendChild(el("p", { class: "hint" }, "The trace of " + index.strategies[x.s] + " on "
        + index.samples[x.i][0] + " is not in this report: it embeds the traces of the first "
        + TRACE_LIMIT_NOTE + ". Render it with `reflectlab report RUN --traces all`, or read the "
        + "calls with `reflectlab export RUN --what calls`."));
      window.reflectlab.pending = Promise.resolve();
      return window.reflectlab.pending;
    }
    var promise = Promise.all([chunk(x.chunk), y ? otherChunk(y.chunk) : null]).then(function (got) {
      renderTrace(x, got[0], y, got[1]);
      var id = index.samples[x.i][0];
      history.replaceState(null, "", "#trace=" + encodeURIComponent(index.strategies[x.s]) + "/" + encodeURIComponent(id));
      if (scroll) $("trace-view").scrollIntoView({ block: "start" });
    }).catch(function (err) {
      var view = $("trace-view");
      view.hidden = false;
      view.textContent = "";
      view.appendChild(el("p", { class: "chart-error" }, "could not open this trace: " + err));
      console.error(err);
    });
    window.reflectlab.pending = promise;
    return promise;
  }

  function badge(label, value, cls) {
    return el("span", null, label + " ", el("b", { class: cls || null }, value));
  }

  /* Every call's sampling parameters as logged; null is the server's default. */
  var SAMPLING = ["temperature", "max_tokens", "seed", "n", "stop", "top_p"];
  function samplingLine(st, c) {
    if (st.cfg === undefined) return el("div", { class: "sampling" }, "sampling parameters: not in the call log");
    var cfg = JSON.parse(c.strings[st.cfg]);
    var keys = SAMPLING.concat(Object.keys(cfg).filter(function (k) { return SAMPLING.indexOf(k) < 0; }).sort());
    var parts = ["sampling: "];
    keys.forEach(function (k, n) {
      var v = cfg[k];
      parts.push(n ? " · " : "", k + " ", v === null || v === undefined
        ? el("span", { class: "default" }, "server default")
        : el("b", { class: "mono" }, typeof v === "string" ? v : JSON.stringify(v)));
    });
    return el("div", { class: "sampling", "data-sampling": c.strings[st.cfg] }, parts);
  }

  function sameMessages(a, b) { return a[0] === b[0] && a[1] === b[1]; }

  function renderCall(st, n, prev, c, res) {
    var oracle = (st.fb || []).some(function (k) { return res.feedback[k].kind === "oracle"; });
    var box = el("div", { class: "step step-call" + (oracle ? " oracle" : "") });
    box.appendChild(el("div", { class: "step-title" },
      el("span", { class: "kind" }, "call " + n + " · " + st.role),
      el("span", null, st.round === undefined ? "" : "round " + st.round),
      el("span", { class: "mono" }, st.model),
      el("span", { class: "meta" }, (st.nu ? "tokens unknown (the server reported no usage)" : fmt(st.pt) + " prompt + " + fmt(st.ct) + " completion tokens") +
        (st.kt ? " (" + fmt(st.kt) + " prefix-cached)" : "") + " · " + fmt(st.lat, 3) + " s" +
        (st.cost ? " · $" + Number(st.cost).toFixed(6) : "") + (st.att ? " · " + st.att + " attempts" : "") +
        (st.si ? " · sample index " + st.si : "")),
      st.hit ? el("span", { class: "tag" }, "cache hit (not paid again)") : null,
      st.trunc ? el("span", { class: "tag tag-warn", title: "the reply was cut by the token limit" }, "truncated (finish_reason=length)") : null,
      null));
    box.appendChild(samplingLine(st, c));
    // Rounds resend the conversation so far: fold what the previous call already showed
    // (its messages and its reply) so each call opens on what is new.
    var shared = 0;
    if (prev) {
      var seen = prev.out && prev.out.length ? prev.msgs.concat([["assistant", prev.out[0]]]) : prev.msgs;
      while (shared < seen.length && shared < st.msgs.length && sameMessages(seen[shared], st.msgs[shared])) shared++;
    }
    var earlier = el("div", { hidden: true });
    st.msgs.forEach(function (m, k) {
      var msg = el("div", { class: "msg msg-" + m[0] }, el("div", { class: "role" }, m[0]), text(c.strings[m[1]]));
      (k < shared ? earlier : box).appendChild(msg);
    });
    if (shared) {
      var toggle = el("button", { type: "button", class: "linkish" }, "▸ show the " + shared + " earlier message" + (shared > 1 ? "s" : "") + " (the previous call's prompt and reply)");
      toggle.addEventListener("click", function () {
        earlier.hidden = !earlier.hidden;
        toggle.textContent = (earlier.hidden ? "▸ show" : "▾ hide") + " the " + shared + " earlier message" + (shared > 1 ? "s" : "");
      });
      box.insertBefore(earlier, box.children[2]);  // after the title and the sampling line
      box.insertBefore(el("div", null, toggle), earlier);
    }
    if (st.err) box.appendChild(el("div", { class: "warnbox" }, "error (" + (st.et || "error") + "): " + st.err));
    (st.out || []).forEach(function (o, k) {
      var label = st.out.length > 1 ? "reply " + (k + 1) + " of " + st.out.length : "reply";
      box.appendChild(el("div", { class: "msg reply" }, el("div", { class: "role" }, label), text(c.strings[o])));
    });
    (st.fb || []).forEach(function (k) {
      var f = res.feedback[k];
      box.appendChild(el("div", { class: "fb-attached" },
        el("b", null, "this reply is the feedback"), " · " + f.kind + " · source " + (f.source || "?") +
        " · verdict " + (f.verdict || "unknown") + (f.round === undefined ? "" : " · round " + f.round)));
    });
    return box;
  }

  function renderCheckpoint(st, lastReply, c) {
    var box = el("div", { class: "step step-cp " + (st.ok ? "ok" : "bad") });
    box.appendChild(el("div", { class: "step-title" },
      el("span", { class: "kind" }, "answer · round " + st.round),
      el("span", { class: st.ok ? "mark-ok" : "mark-bad" }, st.ok ? "✓ correct" : "✗ wrong"),
      el("span", null, "extracted: ", el("b", { class: "mono" }, st.ans === undefined ? "(none)" : st.ans)),
      el("span", { class: "meta" }, "score " + (st.score === undefined ? 0 : st.score) +
        " · after " + fmt(st.calls || 0) + " calls, " + fmt(st.tok || 0) + " tokens")));
    if (st.reason) box.appendChild(el("div", null, "scorer: " + st.reason));
    if (st.note) box.appendChild(el("div", null, "note: " + st.note));
    if (st.resp === lastReply) box.appendChild(el("div", { class: "meta" }, "response: the reply above"));
    else box.appendChild(el("details", null, el("summary", null, "response"), text(c.strings[st.resp])));
    return box;
  }

  function renderFeedback(f, c) {
    var box = el("div", { class: "step step-fb" + (f.kind === "oracle" ? " oracle" : "") });
    box.appendChild(el("div", { class: "step-title" },
      el("span", { class: "kind" }, "feedback · " + f.kind),
      f.kind === "oracle" ? el("span", { class: "tag tag-warn" }, "GOLD LABEL USED") : null,
      el("span", null, "source ", el("b", null, f.source || "?")),
      el("span", null, f.round === undefined ? "" : "round " + f.round),
      el("span", null, "verdict ", el("b", null, f.verdict || "unknown"))));
    box.appendChild(text(c.strings[f.text]));
    if (f.details) box.appendChild(el("details", null, el("summary", null, "details"), text(JSON.stringify(f.details, null, 2))));
    return box;
  }

  /* The last checkpoint of each round, in round order (the rule of accuracy per round). */
  function roundAnswers(res) {
    var by = {};
    res.steps.forEach(function (st) {
      if (st.t === "cp" && (!by[st.round] || by[st.round].idx <= st.idx)) by[st.round] = st;
    });
    return Object.keys(by).map(Number).sort(function (a, b) { return a - b; }).map(function (k) { return by[k]; });
  }

  /* What changed from each round to the next: the extracted answer and the whole response
   * (its reasoning), removed text struck through, inserted text highlighted. */
  function renderRoundDiffs(res, c) {
    var rounds = roundAnswers(res);
    if (rounds.length < 2) return null;
    var box = el("div", { class: "round-diffs" }, el("div", { class: "role" }, "changes between rounds"));
    for (var k = 1; k < rounds.length; k++) {
      var a = rounds[k - 1], b = rounds[k];
      var flip = a.ok && !b.ok ? el("span", { class: "tag tag-warn" }, "right→wrong")
        : (!a.ok && b.ok ? el("span", { class: "tag tag-ok" }, "wrong→right") : null);
      var ansA = a.ans === undefined ? "(none)" : String(a.ans), ansB = b.ans === undefined ? "(none)" : String(b.ans);
      var respA = c.strings[a.resp], respB = c.strings[b.resp];
      box.appendChild(el("details", { class: "round-diff", open: rounds.length <= 4, "data-from": a.round, "data-to": b.round },
        el("summary", null, "round " + a.round + " → " + b.round + ": ",
          el("span", { class: a.ok ? "mark-ok" : "mark-bad" }, a.ok ? "✓" : "✗"), " → ",
          el("span", { class: b.ok ? "mark-ok" : "mark-bad" }, b.ok ? "✓" : "✗"), flip,
          ansA === ansB ? " · same answer" : " · answer changed",
          respA === respB ? " · same response" : ""),
        el("div", { class: "diff-answer" }, "answer: ",
          ansA === ansB ? el("b", { class: "mono" }, ansA) : reflectlabTextDiff.render(ansA, ansB, "mono diff-inline")),
        respA === respB ? el("div", { class: "diff-same-note" }, "the response did not change")
          : reflectlabTextDiff.render(respA, respB, "text diff-text")));
    }
    return box;
  }

  /* One result's trace: head, input and target, round-to-round changes, then every step. */
  function traceBody(idx, x, c) {
    var res = c.results[x.s + ":" + x.i];
    var sample = c.samples[String(x.i)] || {};
    var body = el("div", { class: "trace-body" });
    var ok = !!res.ok;
    body.appendChild(el("div", { class: "trace-head" },
      badge("final", ok ? "✓ correct" : "✗ wrong", ok ? "mark-ok" : "mark-bad"),
      badge("answer", res.ans === undefined ? "(none)" : res.ans, "mono"),
      badge("rounds", x.traj.split("").map(function (t) { return t === "1" ? "✓" : "✗"; }).join(" → ") || "-"),
      badge("stop", res.stop || "-"),
      badge("calls", fmt(res.calls || 0) + (res.hits ? " + " + fmt(res.hits) + " cache hits" : "")),
      badge("tokens", fmt((res.pt || 0) + (res.ct || 0))),
      res.cost ? badge("cost", "$" + Number(res.cost).toFixed(6)) : null,
      badge("wall", fmt(res.wall || 0, 3) + " s"),
      badge("feedback", (res.kinds || []).join("+") || "none"),
      res.base ? badge("compute-matched baseline of", res.base + (res.mode ? " (" + res.mode + ")" : "")) : null));
    if (res.oracle && res.oracle.length) {
      body.appendChild(el("div", { class: "warnbox" }, "ORACLE-ASSISTED: " + res.oracle.join("; ")));
    }
    if (res.err) body.appendChild(el("div", { class: "warnbox" }, "error: " + res.err));
    if (res.reason) body.appendChild(el("div", null, "scorer on the final answer: " + res.reason));
    if (res.missing) body.appendChild(el("div", { class: "warnbox" }, res.missing + " of this sample's calls are not in the call log."));

    body.appendChild(el("div", { class: "msg" }, el("div", { class: "role" }, "input"), text(c.strings[sample.input] || "")));
    var target = sample.target === undefined ? "" : (typeof sample.target === "string" ? sample.target : JSON.stringify(sample.target));
    body.appendChild(el("div", { class: "msg" }, el("div", { class: "role" }, "target (gold)"), text(target)));
    if (sample.meta) body.appendChild(el("details", null, el("summary", null, "metadata"), text(JSON.stringify(sample.meta, null, 2))));
    if (res.notes) body.appendChild(el("details", null, el("summary", null, "strategy notes"), text(JSON.stringify(res.notes, null, 2))));
    append(body, renderRoundDiffs(res, c));

    var prev = null, lastReply = null, n = 0;
    var steps = el("div", { class: "steps" });
    res.steps.forEach(function (st) {
      if (st.t === "call") {
        n += 1;
        steps.appendChild(renderCall(st, n, prev, c, res));
        prev = st;
        lastReply = st.out && st.out.length ? st.out[0] : null;
      } else if (st.t === "cp") {
        steps.appendChild(renderCheckpoint(st, lastReply, c));
      } else if (st.t === "fb") {
        steps.appendChild(renderFeedback(res.feedback[st.fb], c));
      }
    });
    if (!res.steps.length) steps.appendChild(el("p", { class: "hint" }, "No step was recorded for this sample."));
    body.appendChild(steps);
    if (res.final !== undefined && res.final !== lastReply) {
      body.appendChild(el("div", { class: "msg" }, el("div", { class: "role" }, "final response"), text(c.strings[res.final])));
    }
    return body;
  }

  function renderTrace(x, c, y, d) {
    var view = $("trace-view");
    view.textContent = "";
    view.hidden = false;
    var back = el("button", { type: "button", class: "linkish" }, "↑ back to the list");
    back.addEventListener("click", function () { $("trace-filters").scrollIntoView({ block: "start" }); });
    view.appendChild(el("h3", null, el("span", null, "sample ", el("span", { class: "mono" }, index.samples[x.i][0]), " · " + index.strategies[x.s]), back));

    var others = el("div", { class: "others" }, "same sample: ");
    (bySample[x.i] || []).forEach(function (r) {
      var z = row(r);
      var b = el("button", { type: "button", class: (z.flags & FLAG.correct ? "ok" : "bad") + (r === x.r ? " current" : "") },
        (z.flags & FLAG.correct ? "✓ " : "✗ ") + index.strategies[z.s]);
      b.addEventListener("click", function () { openRow(r, false); });
      others.appendChild(b);
    });
    view.appendChild(others);

    if (other) {
      var pair = otherRow(x);
      var bar = el("div", { class: "others compare-bar" });
      if (pair) {
        var ok = pair.flags & FLAG.correct;
        var toggle = el("button", { type: "button", id: "compare-toggle", class: sideBySide ? "current" : null },
          sideBySide ? "hide run " + other.info.run_id : "side by side with run " + other.info.run_id + " (" + (ok ? "✓" : "✗") + " there)");
        toggle.addEventListener("click", function () { sideBySide = !sideBySide; openRow(x.r, false); });
        bar.appendChild(toggle);
      } else {
        bar.appendChild(el("span", { class: "hint" }, "run " + other.info.run_id + " has no result of " + index.strategies[x.s] + " on this sample"));
      }
      view.appendChild(bar);
    }

    if (y && d) {
      view.appendChild(el("div", { class: "compare-grid", id: "compare-grid" },
        el("div", { class: "compare-col run-a" }, el("h4", null, "this run · ", el("span", { class: "mono" }, $("run-id").textContent)), traceBody(index, x, c)),
        el("div", { class: "compare-col run-b" }, el("h4", null, "run · ", el("span", { class: "mono" }, other.info.run_id),
          " · " + other.info.model), traceBody(other.index, y, d))));
    } else {
      view.appendChild(traceBody(index, x, c));
    }
  }

  function openFromHash() {
    var m = /^#trace=([^/]*)\/(.*)$/.exec(location.hash);
    if (!m) return null;
    var s = index.strategies.indexOf(decodeURIComponent(m[1]));
    var id = decodeURIComponent(m[2]);
    for (var r = 0; r < index.rows.length; r++) {
      if (index.rows[r][0] === s && index.samples[index.rows[r][1]][0] === id) return openRow(r, true);
    }
    return null;
  }

  async function startTraces() {
    index = await decodeBlock("trace-index");
    index.rows.forEach(function (x, r) { (bySample[x[1]] = bySample[x[1]] || []).push(r); });
    var select = $("f-strategy");
    index.strategies.forEach(function (name, s) {
      select.appendChild(el("option", { value: String(s) }, name));
    });
    var rounds = 0;
    index.rows.forEach(function (x) { rounds = Math.max(rounds, x[2].length); });
    var byRound = $("f-round");
    for (var k = 0; k < rounds; k++) {
      var name = "round " + k + (k === 0 ? " (first draft)" : "");
      byRound.appendChild(el("option", { value: k + ":1" }, "correct at " + name));
      byRound.appendChild(el("option", { value: k + ":0" }, "wrong at " + name));
    }
    if (rounds < 2) byRound.hidden = true;
    var compareInfo = readJSON("compare-json");
    if (compareInfo) {
      var idx = await decodeBlock("compare-index");
      var byKey = {};
      idx.rows.forEach(function (x, r) { byKey[idx.strategies[x[0]] + "\n" + idx.samples[x[1]][0]] = r; });
      other = { info: compareInfo, index: idx, byKey: byKey, chunks: {} };
      sideBySide = true;
    }
    var rerun = function () {
      window.reflectlab.filtering = applyFilters().catch(function (err) { console.error(err); });
    };
    $("f-search").addEventListener("input", rerun);
    ["f-deep", "f-strategy", "f-outcome", "f-flip", "f-round", "f-compare"].forEach(function (id) {
      if ($(id)) $(id).addEventListener("change", rerun);
    });
    $("p-prev").addEventListener("click", function () { page -= 1; renderPage(); });
    $("p-next").addEventListener("click", function () { page += 1; renderPage(); });
    await applyFilters();
    var opened = openFromHash();
    if (opened) await opened;
    return !!opened;
  }

  /* For scripts and tests: ready (charts drawn, list shown), pending (the trace being
   * opened), filtering (the filter being applied), redrawn (charts refitted after a resize). */
  window.reflectlab = { pending: null, filtering: null, redrawn: null, open: function (r) { return openRow(r, true); } };
  fitTables();
  trackHeader();
  window.reflectlab.ready = Promise.all([
    drawCharts(),
    startTraces().catch(function (err) {
      $("p-info").textContent = "the trace viewer could not start: " + err;
      throw err;
    }),
  ]).then(function (done) {
    // Charts drawn above a deep-linked trace moved it: bring its title back under the header.
    trackHeader();
    if (done[1]) $("trace-view").scrollIntoView({ block: "start" });
    return done;
  });
})();
