"""The Redis read model: the projector that fills it and the store that reads it."""
