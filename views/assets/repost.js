/*
 * Sends the "Continue" form of the repost page at once (src/oidc/post-to-get.ts): a POST
 * from Tarn's own origin, which carries the browser's cookies. Without scripts, the person
 * presses the button.
 */
document.getElementById('repost')?.submit();
