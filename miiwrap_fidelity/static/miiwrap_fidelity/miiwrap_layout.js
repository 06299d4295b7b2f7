// Progressive enhancement for narrow screens: label every data cell with its column's heading
// (data-label) so that miiwrap_look.css can show each table row as a stacked block at 390 px.
// Wide grids whose columns are dates (.mwf-trend) keep their columns and scroll instead.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.mwf-table:not(.mwf-trend)").forEach(function (table) {
    var headings = [];
    table.querySelectorAll("thead tr:last-child th").forEach(function (th) {
      var span = parseInt(th.getAttribute("colspan") || "1", 10);
      for (var i = 0; i < span; i++) { headings.push(th.textContent.trim()); }
    });
    if (!headings.length) { return; }
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && headings[column] &&
            (parseInt(cell.getAttribute("colspan") || "1", 10) === 1)) {
          cell.setAttribute("data-label", headings[column]);
        }
        column += parseInt(cell.getAttribute("colspan") || "1", 10);
      });
    });
    table.classList.add("mwf-stacked");
  });
});

// A region that scrolls sideways (a chart or a wide grid on a phone) can be reached and scrolled
// with the keyboard: it takes focus, and says what it holds.
function mwfFocusableScrollers() {
  document.querySelectorAll(".mwf-figure, .mwf-scroll, table.mwf-table").forEach(function (region) {
    var scrolls = region.scrollWidth > region.clientWidth + 1;
    if (scrolls && !region.hasAttribute("tabindex")) {
      region.setAttribute("tabindex", "0");
      region.setAttribute("data-mwf-scroller", "");
    } else if (!scrolls && region.hasAttribute("data-mwf-scroller")) {
      region.removeAttribute("tabindex");
      region.removeAttribute("data-mwf-scroller");
    }
  });
}
document.addEventListener("DOMContentLoaded", mwfFocusableScrollers);
window.addEventListener("resize", mwfFocusableScrollers);

// Regions whose newest entries are at the right end (the growth chart and the indicator grid, dates
// oldest first) start scrolled to that end on a narrow screen: the newest observation is what one
// sees first, and the hint beside them (shown while the region scrolls) says older ones are to the
// left (issue 26). A region inside a closed <details> is measured when it opens.
function mwfShowNewest(root) {
  (root || document).querySelectorAll(".mwf-scroll-newest").forEach(function (region) {
    if (region.scrollWidth > region.clientWidth + 1) { region.scrollLeft = region.scrollWidth; }
  });
}
document.addEventListener("DOMContentLoaded", function () {
  mwfShowNewest(document);
  document.querySelectorAll("details").forEach(function (disclosure) {
    disclosure.addEventListener("toggle", function () {
      if (disclosure.open) { mwfFocusableScrollers(); mwfShowNewest(disclosure); }
    });
  });
});
