// Northwind Bank demo: the transfer form only pretends. Like a React or Vue form,
// it keeps its own state from the fields' input and change events and reads that
// state (not the fields) when it is submitted, so what it shows is what the
// page's code saw.
(function () {
  var form = document.getElementById("transfer");
  if (!form) return;
  var state = {};
  function track(ev) {
    var el = ev.target;
    if (el && el.name) state[el.name] = el.value;
  }
  form.addEventListener("input", track);
  form.addEventListener("change", track);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var done = document.getElementById("done");
    var when = state.when || "Now (instant)";
    done.textContent =
      "Transfer of € " + (state.amount || "0.00") + " to " + (state.payee || "nobody") + " (" + when + ") prepared. Confirm it in the Northwind app to send it.";
    done.hidden = false;
  });
})();
