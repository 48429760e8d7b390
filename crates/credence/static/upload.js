// Evidence upload with a progress bar. Without JavaScript the form posts as usual; with
// it, the file is sent by XMLHttpRequest so the page can show how far it has got, and the
// browser then follows the server's answer (the new item's page, or the form with the
// problem explained).
(function () {
  var form = document.getElementById('upload-form');
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var box = document.getElementById('upload-progress');
  var bar = document.getElementById('upload-bar');
  var text = document.getElementById('upload-percent');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var button = form.querySelector('button[type=submit]');
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.upload.addEventListener('progress', function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.floor((e.loaded / e.total) * 100);
      bar.value = pct;
      text.textContent = pct + '% of ' + Math.ceil(e.total / 1048576) + ' MB sent';
    });
    xhr.addEventListener('load', function () {
      if (xhr.responseURL && xhr.responseURL !== form.action && xhr.status < 400) {
        window.location.assign(xhr.responseURL);
        return;
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener('error', function () {
      text.textContent = 'The upload was interrupted. Nothing was kept: choose Upload to send it again.';
      if (button) button.disabled = false;
    });
    box.hidden = false;
    if (button) button.disabled = true;
    xhr.send(new FormData(form));
  });
})();
