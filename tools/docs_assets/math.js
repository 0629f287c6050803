// Typeset $...$, $$...$$, \(...\) and \[...\] with the KaTeX copied next to the page (no network), then mark
// every formula KaTeX could only half-render (an unknown command is drawn in red, silently) with class math-error.
// The table of contents is typeset too: headings may hold maths.
document.addEventListener("DOMContentLoaded", function () {
  var roots = document.querySelectorAll("main, nav.toc");
  roots.forEach(function (root) {
    renderMathInElement(root, {
      delimiters: [
        {left: "$$", right: "$$", display: true},
        {left: "\\[", right: "\\]", display: true},
        {left: "$", right: "$", display: false},
        {left: "\\(", right: "\\)", display: false}
      ],
      throwOnError: false
    });
  });
  document.querySelectorAll("main .katex, nav.toc .katex").forEach(function (el) {
    var tex = el.querySelector('annotation[encoding="application/x-tex"]');
    if (!tex) return;
    try {
      katex.renderToString(tex.textContent, {throwOnError: true, displayMode: !!el.closest(".katex-display")});
    } catch (e) {
      el.classList.add("math-error");
      el.title = e.message;
    }
  });
  document.documentElement.dataset.math = "done";
});
