"""Converters from other weight formats into safetensors that spandrel (or our archs) can load."""
