"""The document model: pixels, layers, compositing, history. Imports neither Qt nor torch."""
