"""Projects: the user's own classes, their examples, training and the trained versions."""
