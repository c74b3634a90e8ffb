if __name__ != "loadwatch.metrics":  # one installed name; a bare `metrics` could be another project's
    raise ImportError(f"import loadwatch.metrics, not {__name__} (install loadwatch: pip install -e .)")
