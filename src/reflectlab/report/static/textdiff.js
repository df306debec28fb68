/* reflectlab report: a small word diff for the trace viewer (no dependency).
 *
 * diff(a, b) returns [[op, text], ...] with op "=" (kept), "-" (removed from a) or "+"
 * (inserted in b). Words, runs of spaces and single punctuation marks are the units; the
 * common prefix and suffix are cut first, and the rest is a longest-common-subsequence table.
 * When that table would be too large (long, very different replies) it diffs whole lines, and
 * past that it shows the middle as removed then inserted. The result is data: the viewer turns
 * it into text nodes, never markup.
 */
var reflectlabTextDiff = (function () {
  "use strict";

  var MAX_CELLS = 2500000;  // ~10 MB of table at most, well under a frame's worth of work

  function words(s) { return s.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) || []; }
  function lines(s) { return s.match(/[^\n]*\n|[^\n]+$/g) || []; }

  function push(out, op, text) {
    if (!text) return;
    var last = out[out.length - 1];
    if (last && last[0] === op) last[1] += text;
    else out.push([op, text]);
  }

  function lcs(a, b, out) {
    var n = a.length, m = b.length, w = m + 1;
    var t = new Uint32Array((n + 1) * w);
    for (var i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        t[i * w + j] = a[i] === b[j] ? t[(i + 1) * w + j + 1] + 1 : Math.max(t[(i + 1) * w + j], t[i * w + j + 1]);
      }
    }
    var p = 0, q = 0;
    while (p < n && q < m) {
      if (a[p] === b[q]) { push(out, "=", a[p]); p++; q++; }
      else if (t[(p + 1) * w + q] >= t[p * w + q + 1]) { push(out, "-", a[p]); p++; }
      else { push(out, "+", b[q]); q++; }
    }
    for (; p < n; p++) push(out, "-", a[p]);
    for (; q < m; q++) push(out, "+", b[q]);
  }

  function diffUnits(a, b, out, byLine) {
    var start = 0;
    while (start < a.length && start < b.length && a[start] === b[start]) start++;
    var ea = a.length, eb = b.length;
    while (ea > start && eb > start && a[ea - 1] === b[eb - 1]) { ea--; eb--; }
    push(out, "=", a.slice(0, start).join(""));
    var ma = a.slice(start, ea), mb = b.slice(start, eb);
    if (ma.length * mb.length <= MAX_CELLS) lcs(ma, mb, out);
    else if (!byLine) diffUnits(lines(ma.join("")), lines(mb.join("")), out, true);
    else { push(out, "-", ma.join("")); push(out, "+", mb.join("")); }
    push(out, "=", a.slice(ea).join(""));
  }

  function diff(a, b) {
    var out = [];
    diffUnits(words(String(a || "")), words(String(b || "")), out, false);
    return out;
  }

  /* The diff as a node: kept text as text nodes, removed text in <del>, inserted in <ins>. */
  function render(a, b, cls) {
    var box = document.createElement("div");
    box.className = cls || "text";
    diff(a, b).forEach(function (part) {
      if (part[0] === "=") { box.appendChild(document.createTextNode(part[1])); return; }
      var node = document.createElement(part[0] === "-" ? "del" : "ins");
      node.className = part[0] === "-" ? "diff-del" : "diff-ins";
      node.textContent = part[1];
      box.appendChild(node);
    });
    return box;
  }

  return { diff: diff, render: render };
})();
