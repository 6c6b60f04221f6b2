"""Pure machine learning: image intake, preprocessing, the backbone and its labels.

Nothing here imports Flask, the database or torch; ``mirada.vision.export`` is the
one build-time module that imports torch, inside its functions.
"""
