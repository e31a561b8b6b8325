// Northwind Bank demo: the transfer form only pretends.
(function () {
  var form = document.getElementById("transfer");
  if (!form) return;
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    document.getElementById("done").hidden = false;
  });
})();
