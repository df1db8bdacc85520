(function () {
  "use strict";
  var filter = document.getElementById("filter");
  var order = document.getElementById("sort");
  document.getElementById("controls").hidden = false;
  function key(card) { return card.dataset.p === "" ? -1 : parseFloat(card.dataset.p); }
  function apply() {
    var groups = document.querySelectorAll("section.group");
    for (var g = 0; g < groups.length; g++) {
      var s = groups[g];
      s.hidden = filter.value !== "" && s.id !== filter.value;
      var box = s.querySelector(".cards");
      var cards = Array.prototype.slice.call(box.children);
      cards.sort(function (a, b) {
        if (order.value === "desc") { return key(b) - key(a) || a.dataset.i - b.dataset.i; }
        if (order.value === "asc") { return key(a) - key(b) || a.dataset.i - b.dataset.i; }
        return a.dataset.i - b.dataset.i;
      });
      for (var i = 0; i < cards.length; i++) { box.appendChild(cards[i]); }
    }
  }
  filter.addEventListener("change", apply);
  order.addEventListener("change", apply);
})();
