(function () {
  "use strict";
  // Cards past the first page of a group come hidden in the HTML (a page
  // of 10,000 laid-out cards takes many seconds to open); sorting and the
  // filter work on every card, then each group shows its first page again.
  var size = parseInt(document.body.dataset.pageSize, 10) || 100;
  var filter = document.getElementById("filter");
  var order = document.getElementById("sort");
  document.getElementById("controls").hidden = false;
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.group"));
  var pages = groups.map(function () { return 0; });
  function key(card) { return card.dataset.p === "" ? -Infinity : parseFloat(card.dataset.p); }
  function show(g) {
    var s = groups[g], cards = s.querySelector(".cards").children, pager = s.querySelector(".pager");
    if (!pager) { return; }
    var from = pages[g] * size, to = Math.min(from + size, cards.length);
    for (var i = 0; i < cards.length; i++) { cards[i].hidden = i < from || i >= to; }
    pager.querySelector(".at").textContent = (from + 1) + "–" + to + " of " + cards.length;
    pager.querySelector(".prev").disabled = from === 0;
    pager.querySelector(".next").disabled = to >= cards.length;
  }
  groups.forEach(function (s, g) {
    var pager = s.querySelector(".pager");
    if (!pager) { return; }
    pager.hidden = false;
    function turn(by) {
      return function () {
        pages[g] += by;
        show(g);
        // Back to the group's heading, below the header when it sticks.
        var header = document.querySelector("header");
        var covered = getComputedStyle(header).position === "sticky" ? header.offsetHeight : 0;
        window.scrollTo(0, s.getBoundingClientRect().top + window.scrollY - covered);
      };
    }
    pager.querySelector(".prev").addEventListener("click", turn(-1));
    pager.querySelector(".next").addEventListener("click", turn(1));
    show(g);
  });
  function apply() {
    groups.forEach(function (s, g) {
      s.hidden = filter !== null && filter.value !== "" && s.id !== filter.value;
      var box = s.querySelector(".cards");
      var cards = Array.prototype.slice.call(box.children);
      cards.sort(function (a, b) {
        if (order.value === "desc") { return key(b) - key(a) || a.dataset.i - b.dataset.i; }
        if (order.value === "asc") { return key(a) - key(b) || a.dataset.i - b.dataset.i; }
        return a.dataset.i - b.dataset.i;
      });
      for (var i = 0; i < cards.length; i++) { box.appendChild(cards[i]); }
      pages[g] = 0;
      show(g);
    });
  }
  if (filter) { filter.addEventListener("change", apply); }
  order.addEventListener("change", apply);
})();
