"""The public data the model uses (`raw/`, sources and licences in SOURCES.md) and its loaders."""
