// Progressive enhancement of the rules checker on a qualification page: ticking a unit
// updates the answer without a reload. Without JavaScript the form's buttons do the same.
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('checker-form');
  var out = document.getElementById('checker-result');
  if (!form || !out || !window.fetch) return;
  var pending = 0;
  form.addEventListener('change', function () {
    var params = new URLSearchParams(new FormData(form));
    var ticket = ++pending;
    fetch(form.dataset.fragment + '?' + params.toString(), { headers: { Accept: 'text/html' } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (html === null || ticket !== pending) return;
        out.innerHTML = html;
        history.replaceState(null, '', form.getAttribute('action').split('#')[0] + '?' + params.toString());
      })
      .catch(function () { /* the buttons still work */ });
  });
});
