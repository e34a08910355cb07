"""dla-docs: measured, verified documentation for the Deep Layer Aggregation family."""

from dla_docs.zoo.data import create_transform, data_config, imagenet_classes
from dla_docs.zoo.pretrained import create_model
from dla_docs.zoo.variants import VARIANTS, VariantConfig, list_models

__all__ = ["VARIANTS", "VariantConfig", "create_model", "create_transform", "data_config", "imagenet_classes",
           "list_models"]
__version__ = "0.1.0"
