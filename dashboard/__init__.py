if __name__ != "loadwatch.dashboard":  # one installed name; a bare `dashboard` could be another project's
    raise ImportError(f"import loadwatch.dashboard, not {__name__} (install loadwatch: pip install -e .)")
