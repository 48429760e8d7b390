// The daily loop's small enhancements. Without JavaScript every form posts as usual and the
// whole list shows; with it:
// - the mapping form gets a filter over its criteria (by unit, number or words);
// - the whole-unit decision form is sent with fetch and the criteria table is replaced in
//   place, so the assessor stays where they were (on a problem, the page the server sends
//   back is shown as usual).
(function () {
  if (window.credenceDaily) return;
  window.credenceDaily = true;
  var filter = document.getElementById('map-filter');
  if (filter) {
    var box = filter.closest('.map-filter');
    var count = document.getElementById('map-filter-count');
    box.hidden = false;
    filter.addEventListener('input', function () {
      var words = filter.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
      var shown = 0;
      document.querySelectorAll('#map-criteria .map-group').forEach(function (group) {
        var legend = group.querySelector('legend').textContent.toLowerCase();
        var any = false;
        group.querySelectorAll('.map-option').forEach(function (option) {
          var text = legend + ' ' + option.textContent.toLowerCase();
          var match = words.every(function (w) { return text.indexOf(w) >= 0; });
          option.style.display = match ? '' : 'none';
          if (match) { any = true; shown++; }
        });
        group.style.display = any ? '' : 'none';
      });
      var others = document.querySelector('#map-criteria .map-others');
      if (others && words.length) others.open = true;
      count.textContent = words.length ? shown + (shown === 1 ? ' criterion' : ' criteria') + ' match' : '';
    });
  }

  if (window.fetch && window.FormData && window.URLSearchParams && window.DOMParser) {
    document.addEventListener('submit', function (event) {
      var form = event.target;
      if (!form || form.id !== 'unit-decisions') return;
      event.preventDefault();
      var button = form.querySelector('#save-decisions');
      if (button) button.disabled = true;
      fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        credentials: 'same-origin'
      }).then(function (res) {
        return res.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var main = doc.querySelector('main');
          if (!main) { form.submit(); return; }
          var y = window.scrollY;
          document.querySelector('main').innerHTML = main.innerHTML;
          document.title = doc.title;
          window.scrollTo(0, y);
          if (res.redirected) history.replaceState(null, '', res.url);
          var message = document.querySelector('main .error-summary, main .notification');
          if (message) {
            message.setAttribute('tabindex', '-1');
            message.focus({ preventScroll: !doc.querySelector('main .error-summary') });
          }
        });
      }).catch(function () { form.submit(); });
    });
  }
})();
