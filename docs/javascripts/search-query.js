// Search: the typed query is split into words by the same `separator` as the index
// (mkdocs.yml), so "top-1" is searched as the one word "top-1", not as "top" or "1".
// Written for this project; nothing is loaded from the web.
//
// Why: Material's search worker reads the query with lunr's QueryLexer, whose term separator
// is lunr's default /[\s\-]+/, fixed when lunr loads; Material sets only the index side
// (lunr.tokenizer.separator) from mkdocs.yml. Known upstream: squidfunk/mkdocs-material#8306.
// Material has no setting for it and no longer accepts a custom worker (9.0), so this
// script, listed first among `extra.polyfills` after the iframe-worker shim, starts
// Material's worker through javascripts/search-worker.js, which loads it unchanged and sets
// lunr.QueryLexer.termSeparator to whitespace. Material then splits every whitespace-separated
// term with the configured separator itself.
(function () {
  var Base = window.Worker;  // the iframe-worker shim's class when the site is opened from file://
  if (typeof Base !== "function") return;
  var wrapper = new URL("search-worker.js", document.currentScript.src).href;
  function Worker(url, options) {
    var target = new URL(String(url), document.baseURI);
    if (/\/workers\/search\.[^/]*\.js$/.test(target.pathname))
      url = wrapper + "?" + encodeURIComponent(target.href);
    return Reflect.construct(Base, [url, options], new.target || Worker);
  }
  Worker.prototype = Base.prototype;
  window.Worker = Worker;
})();
