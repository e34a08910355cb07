"""The sealed store: what one command keeps for the next, so that a warm run needs no torch.

One folder (the project's ``cache-dir``, ``.dla-docs-cache`` by default) holds six kinds of
entry, each reached through its own typed shelf:

- :class:`dla_docs.measure.stored.MeasurementShelf`: each variant's
  :class:`~dla_docs.measure.facts.VariantFacts` at one image size;
- :class:`~dla_docs.store.shelves.DrawingShelf`: drawn SVGs, by the digest of what they show;
- :class:`~dla_docs.store.shelves.TemplateShelf`: page templates as Jinja compiled them;
- :class:`~dla_docs.store.shelves.IndexShelf`: model-index blocks as the reader parsed them;
- :class:`~dla_docs.store.shelves.PageShelf`: rendered pages, by the digest of their inputs;
- :class:`~dla_docs.store.shelves.SiteShelf`: the stamp of the last site build.

The seal (keys, HMAC, the code behind an entry, no links below the root) is
:mod:`dla_docs.store.seal`; what code a process loaded, :mod:`dla_docs.store.imports`. This
package imports nothing of the measuring code.
"""

from dla_docs.store.seal import (
    KEY_FILE,
    MAX_ENTRY_BYTES,
    STORE_FORMAT,
    MissingPackageError,
    SealedFolder,
    changed_code,
    code_unchanged,
    loaded_code,
    package_code,
    package_versions,
)
from dla_docs.store.shelves import DrawingShelf, IndexShelf, PageShelf, SiteShelf, Store, TemplateShelf, in_ci, open_store, put_pending

__all__ = ["KEY_FILE", "MAX_ENTRY_BYTES", "STORE_FORMAT", "DrawingShelf", "IndexShelf", "MissingPackageError", "PageShelf", "SealedFolder", "put_pending",
           "SiteShelf", "Store", "TemplateShelf", "changed_code", "code_unchanged", "in_ci", "loaded_code", "open_store",
           "package_code", "package_versions"]
