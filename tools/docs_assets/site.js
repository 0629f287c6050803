// The reader's tools of the offline docs (tools/docs.py): a copy button on every code block, and a search over
// search.json, the index that docs.py writes next to the pages. Nothing is loaded from outside the site.
(function () {
  "use strict";
  var root = document.documentElement.dataset.root || "";

  // ------------------------------------------------------------ copy buttons
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {  // plain http on another host: the older way
      var area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      area.remove();
      if (ok) resolve(); else reject(new Error("the browser refused to copy"));
    });
  }

  function addCopyButtons() {
    // code cells, and fenced code in the prose; not outputs
    document.querySelectorAll("main .input_area, main .text_cell_render .highlight").forEach(function (block) {
      var pre = block.querySelector("pre");
      if (!pre || block.querySelector(":scope > .copy-code")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-code";
      button.textContent = "Copy";
      button.title = "Copy the code";
      button.addEventListener("click", function () {
        copyText(pre.innerText.replace(/\n$/, "")).then(function () {
          button.textContent = "Copied";
          button.dataset.copied = "true";
        }, function () {
          button.textContent = "Select and copy";
        }).then(function () {
          setTimeout(function () { button.textContent = "Copy"; }, 1500);
        });
      });
      block.appendChild(button);
    });
  }

  // ------------------------------------------------------------ search
  var index = null;

  function loadIndex() {
    if (!index) {
      index = fetch(root + "search.json").then(function (r) {
        if (!r.ok) throw new Error("search.json: HTTP " + r.status);
        return r.json();
      }).then(function (data) {
        var rows = [];
        data.pages.forEach(function (page) {
          page.sections.forEach(function (s) {
            rows.push({page: page.title, url: page.url, id: s.id, heading: s.heading, text: s.text,
                       lower: {page: page.title.toLowerCase(), heading: s.heading.toLowerCase(), text: s.text.toLowerCase()}});
          });
        });
        return rows;
      });
    }
    return index;
  }

  function count(hay, term) {
    var n = 0, at = hay.indexOf(term);
    while (at >= 0 && n < 5) { n++; at = hay.indexOf(term, at + term.length); }
    return n;
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  // A piece of `text` around the first term found, escaped, with every term marked.
  function snippet(text, terms) {
    var lower = text.toLowerCase(), at = -1;
    terms.some(function (t) { at = lower.indexOf(t); return at >= 0; });
    var start = Math.max(0, at - 60), end = at < 0 ? 140 : at + 100;
    var piece = text.slice(start, end), low = piece.toLowerCase(), marks = [];
    terms.forEach(function (t) {
      for (var i = low.indexOf(t); i >= 0; i = low.indexOf(t, i + t.length)) marks.push([i, i + t.length]);
    });
    marks.sort(function (a, b) { return a[0] - b[0]; });
    var out = "", pos = 0;
    marks.forEach(function (m) {
      if (m[0] < pos) return;  // overlaps the previous mark
      out += escapeHtml(piece.slice(pos, m[0])) + "<mark>" + escapeHtml(piece.slice(m[0], m[1])) + "</mark>";
      pos = m[1];
    });
    out += escapeHtml(piece.slice(pos));
    return (start > 0 ? "… " : "") + out + (end < text.length ? " …" : "");
  }

  // Sections where every word of the query occurs (in the page title, the heading or the text), best first.
  function search(query, limit) {
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    return loadIndex().then(function (rows) {
      if (!terms.length) return [];
      var hits = [];
      rows.forEach(function (r) {
        var score = 0;
        for (var i = 0; i < terms.length; i++) {
          var t = terms[i], inHead = r.lower.heading.indexOf(t) >= 0, inPage = r.lower.page.indexOf(t) >= 0;
          var inText = count(r.lower.text, t);
          if (!inHead && !inPage && !inText) return;
          score += (inHead ? 10 : 0) + (inPage ? 3 : 0) + inText;
        }
        if (r.lower.heading === terms.join(" ")) score += 20;
        hits.push({score: score, page: r.page, heading: r.heading, href: root + r.url + (r.id ? "#" + r.id : ""),
                   snippet: snippet(r.text, terms)});
      });
      hits.sort(function (a, b) { return b.score - a.score; });
      return hits.slice(0, limit || 12);
    });
  }
  window.siteSearch = search;

  function setUpSearch() {
    var input = document.getElementById("search-input"), list = document.getElementById("search-results");
    if (!input || !list) return;
    var latest = 0;
    function close() { list.hidden = true; }
    function show(hits, query) {
      list.innerHTML = hits.length ? hits.map(function (h) {
        return '<li><a href="' + escapeHtml(h.href) + '"><span class="result-page">' + escapeHtml(h.page) + "</span>" +
          (h.heading ? ' › <span class="result-section">' + escapeHtml(h.heading) + "</span>" : "") +
          '<span class="result-snippet">' + h.snippet + "</span></a></li>";
      }).join("") : '<li class="no-results">Nothing found for “' + escapeHtml(query) + "”</li>";
      list.hidden = false;
    }
    input.addEventListener("input", function () {
      var query = input.value.trim(), ticket = ++latest;
      if (!query) { close(); return; }
      search(query).then(function (hits) { if (ticket === latest) show(hits, query); }, function (e) {
        list.innerHTML = '<li class="no-results">Search is unavailable: ' + escapeHtml(e.message) + "</li>";
        list.hidden = false;
      });
    });
    input.addEventListener("focus", function () { loadIndex().catch(function () {}); });
    input.addEventListener("keydown", function (e) {
      var first = list.querySelector("a");
      if (e.key === "Escape") { close(); input.blur(); }
      else if (e.key === "Enter" && first) { window.location.href = first.href; }
      else if (e.key === "ArrowDown" && first) { e.preventDefault(); first.focus(); }
    });
    list.addEventListener("keydown", function (e) {
      var item = document.activeElement.closest("li");
      if (e.key === "ArrowDown" && item && item.nextElementSibling) {
        e.preventDefault(); item.nextElementSibling.querySelector("a").focus();
      } else if (e.key === "ArrowUp" && item) {
        e.preventDefault();
        (item.previousElementSibling ? item.previousElementSibling.querySelector("a") : input).focus();
      } else if (e.key === "Escape") { close(); input.focus(); }
    });
    document.addEventListener("click", function (e) { if (!e.target.closest(".search")) close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    addCopyButtons();
    setUpSearch();
    document.documentElement.dataset.site = "ready";
  });
})();
