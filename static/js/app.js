/* coopdesa: progressive enhancement only; every page works without JavaScript. */
(function () {
  "use strict";

  var SEARCH_URL = document.body.getAttribute("data-region-search-url");

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  /* Region autocomplete: <input data-region-search="party|any|jurisdiction|multi">.
     Suggestions come from the app's own JSON endpoint into a native <datalist>, which
     browsers make keyboard- and screen-reader-accessible; the chosen code is explained
     in a live hint below the field. */
  function attachRegionSearch(input, index) {
    var mode = input.getAttribute("data-region-search");
    if (mode === "multi") { return; } /* free-form list of codes: no single suggestion */
    var list = document.createElement("datalist");
    list.id = "region-options-" + index;
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    input.parentNode.appendChild(list);
    var hint = document.createElement("div");
    hint.className = "form-text region-hint";
    hint.setAttribute("aria-live", "polite");
    input.parentNode.appendChild(hint);
    var known = {};

    function explain() {
      var item = known[input.value.trim()];
      hint.textContent = item ? (item.kind_label + " " + item.name + " — " + item.path +
        (item.kind === "kelurahan" ? " (kelurahan: tidak dapat menjadi pihak)" : "")) : "";
    }

    var fetchSuggestions = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2 || known[q]) { explain(); return; }
      var params = new URLSearchParams({ q: q, limit: "15" });
      if (mode === "party") { params.set("parties", "1"); }
      if (mode === "jurisdiction") { ["1", "2", "3"].forEach(function (l) { params.append("level", l); }); }
      fetch(SEARCH_URL + "?" + params.toString(), { headers: { "Accept": "application/json" },
                                                   credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          list.textContent = "";
          data.items.forEach(function (item) {
            known[item.code] = item;
            var option = document.createElement("option");
            option.value = item.code;
            option.label = item.kind_label + " " + item.name + " — " + item.path;
            list.appendChild(option);
          });
          explain();
        })
        .catch(function () { /* offline or signed out: the field still takes a typed code */ });
    }, 200);

    input.addEventListener("input", fetchSuggestions);
    input.addEventListener("change", explain);
  }

  /* Actor autocomplete: <input data-actor-search="third|any"> takes an actor id; the
     suggestions show names, and the chosen name is repeated in the field's help line. */
  var ACTOR_URL = document.body.getAttribute("data-actor-search-url");

  function attachActorSearch(input, index) {
    var list = document.createElement("datalist");
    list.id = "actor-options-" + index;
    input.setAttribute("list", list.id);
    input.parentNode.appendChild(list);
    var help = document.getElementById(input.getAttribute("aria-describedby") || "");
    var known = {};
    var fetchSuggestions = debounce(function () {
      var q = input.value.trim();
      if (known[q]) { if (help) { help.textContent = known[q].name; } return; }
      if (q.length < 2) { return; }
      var params = new URLSearchParams({ q: q });
      if (input.getAttribute("data-actor-search") === "third") { params.set("pihak_ketiga", "1"); }
      fetch(ACTOR_URL + "?" + params.toString(), { headers: { "Accept": "application/json" },
                                                  credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          list.textContent = "";
          data.items.forEach(function (item) {
            known[String(item.id)] = item;
            var option = document.createElement("option");
            option.value = String(item.id);
            option.label = item.name + " (" + item.kind_label + ")";
            list.appendChild(option);
          });
        })
        .catch(function () { /* offline: the field still takes an id */ });
    }, 200);
    input.addEventListener("input", fetchSuggestions);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var actorInputs = ACTOR_URL ? document.querySelectorAll("input[data-actor-search]") : [];
    for (var j = 0; j < actorInputs.length; j++) { attachActorSearch(actorInputs[j], j); }
    var inputs = SEARCH_URL ? document.querySelectorAll("input[data-region-search]") : [];
    for (var i = 0; i < inputs.length; i++) { attachRegionSearch(inputs[i], i); }
    var summary = document.getElementById("form-error-summary");
    if (summary) { summary.focus(); }
  });
})();
