(function () {
  "use strict";
  var $ = function (sel) { return document.querySelector(sel); };
  var cards = Array.prototype.slice.call(document.querySelectorAll("#all .card"));
  var search = $("#q"), model = $("#model"), kind = $("#kind"), status = $("#status"),
      from = $("#from"), to = $("#to"), count = $("#count");
  var unfinished = ["pending", "in_queue", "in_progress", "interrupted", "timeout", "error"];

  function matches(card) {
    var d = card.dataset;
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (var i = 0; i < words.length; i++) {
      if (d.search.indexOf(words[i]) < 0) return false;
    }
    if (model.value && d.model !== model.value) return false;
    if (kind.value && (" " + d.kinds + " ").indexOf(" " + kind.value + " ") < 0) return false;
    if (status.value) {
      if (status.value === "pending") {
        if (unfinished.indexOf(d.status) < 0) return false;
      } else if (d.status !== status.value) return false;
    }
    if (from.value && d.date < from.value) return false;
    if (to.value && d.date > to.value) return false;
    return true;
  }

  function apply() {
    var shown = 0;
    cards.forEach(function (card) {
      var ok = matches(card);
      card.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + " of " + cards.length + " runs";
  }

  // A remote URL that expired: a placeholder instead of a broken image.
  document.addEventListener("error", function (ev) {
    var item = ev.target && ev.target.closest && ev.target.closest(".item");
    if (item && (ev.target.tagName === "IMG" || ev.target.tagName === "VIDEO")) {
      item.classList.add("broken");
    }
  }, true);
  Array.prototype.forEach.call(document.images, function (img) {
    if (img.complete && img.naturalWidth === 0 && img.closest(".item")) {
      img.closest(".item").classList.add("broken");
    }
  });

  [search, model, kind, status, from, to].forEach(function (el) {
    el.addEventListener("input", apply);
  });

  var tabAll = $("#tab-all"), tabCompare = $("#tab-compare");
  function view(name, group) {
    var compare = name === "compare";
    $("#all").hidden = compare;
    $("#compare").hidden = !compare;
    count.hidden = compare;
    tabAll.setAttribute("aria-pressed", String(!compare));
    tabCompare.setAttribute("aria-pressed", String(compare));
    if (group) {
      var target = document.getElementById(group);
      if (target) target.scrollIntoView({ block: "start" });
    }
  }
  tabAll.addEventListener("click", function () { view("all"); });
  tabCompare.addEventListener("click", function () { view("compare"); });
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("button.compare");
    if (button) view("compare", "group-" + button.dataset.group);
  });

  // ?q=… (and #compare) make a view linkable.
  var params = new URLSearchParams(location.search);
  if (params.get("q")) search.value = params.get("q");
  if (location.hash === "#compare") view("compare");
  apply();
})();
