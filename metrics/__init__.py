if __name__ != "loadwatch.metrics":  # one installed name; a bare `metrics` could be another project's
    from importlib.util import find_spec

    raise ImportError(f"import loadwatch.metrics, not {__name__}: this folder is part of loadwatch"
                      + ("" if find_spec("loadwatch") else " (not installed here yet: pip install -e .)"))
