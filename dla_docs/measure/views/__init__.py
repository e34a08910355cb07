"""Views of one recorded forward pass (:mod:`dla_docs.measure.recording`): fvcore's counts, the
level shapes, the aggregation structure and the receptive-field windows."""
