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
  // A page whose title holds a typed word whole ("dla60x" in "DLA-60x (dla60x)", not in
  // "dla60x_c") is listed before the others: the index cannot tell, since it splits names
  // into parts. The query is read from the message that asks for it; the order of the
  // answer's pages is changed, nothing else.
  var query = "";
  self.addEventListener("message", function (event) {
    if (event.data && typeof event.data.data === "string") query = event.data.data;
  }, true);
  function title(group) {
    return String(group && group[0] && group[0].title || "").replace(/<[^>]*>/g, "").toLowerCase();
  }
  function whole(text, word) {
    var at = text.indexOf(word);
    for (; at >= 0; at = text.indexOf(word, at + 1)) {
      var before = text.charAt(at - 1), after = text.charAt(at + word.length);
      if (!/[\w-]/.test(before) && !/[\w-]/.test(after)) return true;
    }
    return false;
  }
  var post = self.postMessage;
  self.postMessage = function (message) {
    var items = message && message.data && message.data.items;
    var words = query.toLowerCase().split(/\s+/).filter(function (w) { return /\d/.test(w) && w.length > 2; });
    if (Array.isArray(items) && words.length) {
      var exact = [], rest = [];
      items.forEach(function (group) {
        (words.every(function (w) { return whole(title(group), w); }) ? exact : rest).push(group);
      });
      message.data.items = exact.concat(rest);
    }
    return post.apply(this, arguments);
  };
  var loading = importScripts(material);  // a Promise under the shim, nothing in a worker
  if (loading && typeof loading.then === "function") loading.then(wordsAtWhitespace);
  else wordsAtWhitespace();
})();
