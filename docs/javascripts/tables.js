// Make the generated tables sortable (tablesort, vendored; nothing is loaded from the web).
document$.subscribe(function () {
  document.querySelectorAll("table[data-dla-sortable]").forEach(function (table) {
    new Tablesort(table);
  });
});
