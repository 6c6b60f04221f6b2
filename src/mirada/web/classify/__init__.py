"""Classifying photos into the ImageNet classes, and the history of what was classified."""
