"""What the Jina embedders and ranker share (not a public API: import the components instead)."""

__version__ = "0.1.0"
