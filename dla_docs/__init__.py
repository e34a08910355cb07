"""dla-docs: measured, verified documentation for the Deep Layer Aggregation family."""

from dla_docs.zoo.variants import VARIANTS, VariantConfig, create_model, list_models

__all__ = ["VARIANTS", "VariantConfig", "create_model", "list_models"]
__version__ = "0.1.0"
