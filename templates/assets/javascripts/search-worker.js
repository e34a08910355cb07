// Material's search worker, with the query read word by word as the index is (see
// search-query.js). Its address comes after "?": in a worker it is this script's location;
// under the iframe-worker shim (file://) it is the <script> that loaded this file, whose
// address the shim suffixes with "?<time>".
// Material loads extra lunr languages relative to this file: the site is English (lang: en),
// which needs none.
(function () {
  var own = typeof document === "undefined" ? self.location.href : document.currentScript.src;
  var material = decodeURIComponent(new URL(own).search.slice(1).replace(/\?\d+$/, ""));
  function wordsAtWhitespace() {
    if (self.lunr && self.lunr.QueryLexer) self.lunr.QueryLexer.termSeparator = /\s+/;
  }
  var loading = importScripts(material);  // a Promise under the shim, nothing in a worker
  if (loading && typeof loading.then === "function") loading.then(wordsAtWhitespace);
  else wordsAtWhitespace();
})();
