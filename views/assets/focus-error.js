// Hosted pages: focus goes to the first field in error (aria-invalid), so that a keyboard or
// screen reader user lands where the form needs them; its message is read through aria-describedby.
(function () {
  'use strict';
  function focusFirstError() {
    var field = document.querySelector('[aria-invalid="true"]');
    if (field && typeof field.focus === 'function') field.focus();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', focusFirstError);
  else focusFirstError();
})();
