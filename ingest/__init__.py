if __name__ != "loadwatch.ingest":  # one installed name; a bare `ingest` could be another project's
    raise ImportError(f"import loadwatch.ingest, not {__name__} (install loadwatch: pip install -e .)")
