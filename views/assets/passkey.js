/*
 * WebAuthn in the browser for Tarn's passkey pages (no inline scripts: the CSP forbids them).
 * Reads the options the server put in #passkey[data-options] (WebAuthn JSON, base64url
 * fields), calls navigator.credentials.create or .get, and posts the result, serialised
 * as WebAuthn's JSON (base64url), in the page's form. Errors are shown on the page, in the
 * page's language: the server puts the words on #passkey as data- attributes (views/_passkey-words.ejs).
 */
(function () {
  'use strict';
  var root = document.getElementById('passkey');
  if (!root) return;
  var mode = root.getAttribute('data-mode');
  var form = document.getElementById('passkey-form');
  var field = document.getElementById('passkey-credential');
  var button = document.getElementById('passkey-start');
  var errorBox = document.getElementById('passkey-error');
  var waiting = document.getElementById('passkey-waiting');

  function word(name) {
    return root.getAttribute('data-' + name) || '';
  }

  function toBytes(value) {
    var base64 = value.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) base64 += '=';
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (!buffer) return undefined;
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      return { id: toBytes(item.id), type: item.type || 'public-key', transports: item.transports };
    });
  }

  function show(message) {
    if (waiting) waiting.hidden = true;
    errorBox.textContent = message;
    errorBox.hidden = false;
    button.textContent = word('try-again');
    button.disabled = false;
  }

  function explain(error) {
    var name = error && error.name;
    if (name === 'NotAllowedError') return word('not-allowed');
    if (name === 'InvalidStateError') return word('already-here');
    if (name === 'SecurityError') return word('not-permitted');
    if (name === 'NotSupportedError') return word('not-supported');
    if (name === 'AbortError') return word('interrupted');
    return word('failed');
  }

  function serialise(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (mode === 'create') {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : undefined;
    }
    return JSON.stringify(json);
  }

  function run() {
    var options;
    try {
      options = JSON.parse(root.getAttribute('data-options'));
    } catch {
      show(word('damaged'));
      return;
    }
    button.disabled = true;
    errorBox.hidden = true;
    var request;
    if (mode === 'create') {
      options.challenge = toBytes(options.challenge);
      options.user.id = toBytes(options.user.id);
      options.excludeCredentials = withIds(options.excludeCredentials);
      request = navigator.credentials.create({ publicKey: options });
    } else {
      options.challenge = toBytes(options.challenge);
      if (options.allowCredentials) options.allowCredentials = withIds(options.allowCredentials);
      request = navigator.credentials.get({ publicKey: options });
    }
    request.then(
      function (credential) {
        if (!credential) return show(word('nothing'));
        field.value = serialise(credential);
        form.submit();
      },
      function (error) {
        show(explain(error));
      },
    );
  }

  if (!window.PublicKeyCredential || !navigator.credentials) {
    document.getElementById('passkey-unsupported').hidden = false;
    button.hidden = true;
    if (waiting) waiting.hidden = true;
    return;
  }
  button.addEventListener('click', run);
  if (root.getAttribute('data-autostart') === 'true') run();
})();
