"""Compiled page templates kept in the sealed store, so that a warm command compiles nothing.

Compiling the page templates is a good part of a warm ``verify``. Jinja can keep compiled
code, but its own file cache would load whatever code a file holds; this one loads only what
the store sealed (:class:`dla_docs.store.TemplateShelf`).
"""

from __future__ import annotations

import hashlib
import sys
from typing import TYPE_CHECKING

import jinja2
import jinja2.bccache

from dla_docs.store import TemplateShelf

if TYPE_CHECKING:
    from dla_docs.render.templating import PageSandbox


class SealedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in the store, sealed like its other entries.

    The code is stored through ``store`` (:class:`dla_docs.store.TemplateShelf`), whose
    entries carry an HMAC under the cache's own key and are not read in CI; an entry is named
    by Jinja's and Python's versions, the environment's settings, the template and the
    checksum of its source, so an edited template is compiled again. It also remembers the
    literal includes of each template source, so that checking the includes of unchanged
    templates parses nothing. Newly compiled code is written only by :meth:`keep`, once the
    command succeeded: one that fails on bad input leaves the cache as it was.
    """

    def __init__(self, store: TemplateShelf) -> None:
        self.store = store
        self.pending: dict[str, bytes] = {}
        self.pending_includes: dict[str, list] = {}

    @staticmethod
    def _settings(env: jinja2.Environment) -> tuple:
        return (jinja2.__version__, sys.version, type(env).__qualname__, env.autoescape, env.trim_blocks,
                env.lstrip_blocks, env.keep_trailing_newline, getattr(env.finalize, "__qualname__", None))

    @classmethod
    def _name(cls, bucket: jinja2.bccache.Bucket) -> str:
        settings = (*cls._settings(bucket.environment), bucket.key, bucket.checksum)
        return hashlib.sha256(repr(settings).encode()).hexdigest()

    @classmethod
    def _includes_name(cls, env: jinja2.Environment, source: str) -> str:
        settings = ("includes", *cls._settings(env), hashlib.sha256(source.encode("utf-8")).hexdigest())
        return hashlib.sha256(repr(settings).encode()).hexdigest()

    def includes(self, env: jinja2.Environment, source: str) -> list[tuple[str, int]] | None:
        """The literal includes of a template with exactly this ``source``, if remembered."""
        found = self.store.get_includes(self._includes_name(env, source))
        if found is None or not all(
                isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and type(item[1]) is int
                for item in found):
            return None
        return [(name, line) for name, line in found]

    def remember_includes(self, env: jinja2.Environment, source: str, found: list[tuple[str, int]]) -> None:
        self.pending_includes[self._includes_name(env, source)] = [[name, line] for name, line in found]

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.store.get_bytecode(self._name(bucket))
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.pending[self._name(bucket)] = bucket.bytecode_to_string()

    def keep(self) -> None:
        try:
            for name, code in self.pending.items():
                self.store.put_bytecode(name, code)
            for name, includes in self.pending_includes.items():
                self.store.put_includes(name, includes)
        except OSError:
            pass  # compiled (or parsed) again next time
        self.pending.clear()
        self.pending_includes.clear()


def keep_compiled(env: PageSandbox, store: TemplateShelf | None) -> None:
    """Load ``env``'s compiled templates from ``store`` from now on (none without one), and keep
    the ones it compiles there when :func:`remember_compiled` is called."""
    env.bytecode_cache = SealedBytecodeCache(store) if store is not None else None


def remember_compiled(env: PageSandbox) -> None:
    """Write the templates ``env`` compiled since :func:`keep_compiled` (the command succeeded)."""
    if isinstance(env.bytecode_cache, SealedBytecodeCache):
        env.bytecode_cache.keep()
