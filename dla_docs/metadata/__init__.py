"""The metadata stage: read a template's model-index block into located, validated records.

``schema`` holds the records and field tables, ``block`` finds the HTML-comment block,
``reader`` walks its YAML, ``values`` converts scalars, ``diagnostics`` explains YAML errors,
and ``templates`` reads files. Nothing here imports torch or the measurement engine.
"""

from dla_docs.metadata.schema import (
                                      METADATA_FIELDS,
                                      Located,
                                      ModelEntry,
                                      ModelIndex,
                                      ModelIndexError,
                                      Problem,
                                      Template,
)
from dla_docs.metadata.templates import (
                                      MAX_TEMPLATE_BYTES,
                                      parse_template,
                                      read_template,
                                      read_templates,
)

__all__ = ["MAX_TEMPLATE_BYTES", "METADATA_FIELDS", "Located", "ModelEntry", "ModelIndex", "ModelIndexError",
           "Problem", "Template", "parse_template", "read_template", "read_templates"]
