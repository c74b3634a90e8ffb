if __name__ != "loadwatch.ingest":  # one installed name; a bare `ingest` could be another project's
    from importlib.util import find_spec

    raise ImportError(f"import loadwatch.ingest, not {__name__}: this folder is part of loadwatch"
                      + ("" if find_spec("loadwatch") else " (not installed here yet: pip install -e .)"))
