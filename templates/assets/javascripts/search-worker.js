// Material's search worker, with the query read word by word as the index is (see
// search-query.js). Its address comes after "?": in a worker it is this script's location;
// under the iframe-worker shim (file://) it is the <script> that loaded this file, whose
// address the shim suffixes with "?<time>".
// Material loads extra lunr languages relative to this file: the site is English (lang: en),
// which needs none.
(function () {
  var own = typeof document === "undefined" ? self.location.href : document.currentScript.src;
  var material = decodeURIComponent(new URL(own).search.slice(1).replace(/\?\d+$/, ""));
  var EXACT_BOOST = 20;
  var SPELLINGS = { licence: "licen*", license: "licen*", licences: "licen*", licenses: "licen*" };
  function wordsAtWhitespace() {
    var lunr = self.lunr;
    if (!lunr || !lunr.QueryLexer) return;
    lunr.QueryLexer.termSeparator = /\s+/;
    // Every word must match (a leading "-" still excludes one): "dla102x2", read as "dla" and
    // "102x2", then finds the sections naming dla102x2, not every section that says "dla".
    // Material searches each word as a prefix ("102x*"); the word itself is added as an
    // optional clause with a high boost, so an exact name ranks first: "dla102x" puts the
    // dla102x card before dla102x2's. British and American spellings find each other.
    var clause = lunr.Query.prototype.clause;
    lunr.Query.prototype.clause = function (c) {
      if (!c || "presence" in c || typeof c.term !== "string") return clause.call(this, c);
      c.presence = lunr.Query.presence.REQUIRED;
      var word = c.term.replace(/\*$/, "");
      var spelling = SPELLINGS[word];
      if (spelling) c.term = spelling;
      var result = clause.call(this, c);
      if (!spelling && word && word !== c.term && word.indexOf("*") < 0)
        clause.call(this, { term: word, fields: c.fields, boost: EXACT_BOOST, usePipeline: c.usePipeline,
                            presence: lunr.Query.presence.OPTIONAL });
      return result;
    };
  }
  var loading = importScripts(material);  // a Promise under the shim, nothing in a worker
  if (loading && typeof loading.then === "function") loading.then(wordsAtWhitespace);
  else wordsAtWhitespace();
})();
