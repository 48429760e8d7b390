// A long task's page: without JavaScript, "Check progress" reloads it; with it, the page is
// fetched every second and its status swapped in place (the progress region is announced
// politely), until the task is done or failed, when the result is shown and focused.
(function () {
  if (window.credenceTask) return;
  window.credenceTask = true;
  var box = document.getElementById('task-status');
  if (!box || box.getAttribute('data-finished') === 'true') return;
  if (!window.fetch || !window.DOMParser) return;
  var check = document.getElementById('task-check');
  if (check) check.parentNode.hidden = true;
  var waits = 0;
  function poll() {
    fetch(window.location.pathname, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var next = doc.getElementById('task-status');
        if (!next) { schedule(); return; }
        if (next.getAttribute('data-finished') === 'true') {
          box.replaceWith(next);
          var title = doc.querySelector('title');
          if (title) document.title = title.textContent;
          var result = document.getElementById('task-result');
          if (result) result.focus();
          return;
        }
        // Only the changing parts, so the live region reads the new words once.
        ['task-bar', 'task-words'].forEach(function (id) {
          var old = document.getElementById(id), fresh = doc.getElementById(id);
          if (!old || !fresh) return;
          if (id === 'task-bar') {
            old.max = fresh.max;
            if (fresh.hasAttribute('value')) old.value = fresh.value; else old.removeAttribute('value');
          } else if (old.textContent !== fresh.textContent) {
            old.textContent = fresh.textContent;
          }
        });
        var note = document.getElementById('task-note'), freshNote = doc.getElementById('task-note');
        if (note && freshNote && note.textContent !== freshNote.textContent) note.textContent = freshNote.textContent;
        schedule();
      })
      .catch(schedule);
  }
  function schedule() {
    waits++;
    // Every second for a minute, then every five seconds.
    window.setTimeout(poll, waits < 60 ? 1000 : 5000);
  }
  schedule();
})();
