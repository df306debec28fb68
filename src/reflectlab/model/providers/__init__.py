"""Providers, one file each. Imported lazily by :func:`reflectlab.model.get_model`."""
