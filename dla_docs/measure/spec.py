"""What a measurement means, without measuring: the input sizes (the FLOPs conventions are
:mod:`dla_docs.measure.conventions`).

Torch-free, so configuration loading and ``--help`` never import the engine.
"""

from __future__ import annotations

DEFAULT_IMAGE_SIZE = 224
# Five stride-2 stages: each aggregation node concatenates a max-pooled and a strided-conv
# path, whose sizes agree only when the side is a multiple of 32.
IMAGE_SIZE_STEP = 32
MIN_IMAGE_SIZE = 32
MAX_IMAGE_SIZE = 2048


class InvalidImageSize(ValueError):
    pass


def check_image_size(image_size: int) -> int:
    if not (MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE and image_size % IMAGE_SIZE_STEP == 0):
        raise InvalidImageSize(
            f"image size must be a multiple of {IMAGE_SIZE_STEP} from {MIN_IMAGE_SIZE} to "
            f"{MAX_IMAGE_SIZE} pixels, got {image_size}"
        )
    return image_size
