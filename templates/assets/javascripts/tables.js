// Make the generated tables sortable (tablesort, vendored; nothing is loaded from the web).
// "natural" sorts variant names by their numbers: dla34 before dla102.
Tablesort.extend("natural", function () { return false; }, function (a, b) {
  return b.localeCompare(a, "en", { numeric: true });
});
document$.subscribe(function () {
  document.querySelectorAll("table[data-dla-sortable]").forEach(function (table) {
    new Tablesort(table);
  });
});
