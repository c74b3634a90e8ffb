if __name__ != "loadwatch.dashboard":  # one installed name; a bare `dashboard` could be another project's
    from importlib.util import find_spec

    raise ImportError(f"import loadwatch.dashboard, not {__name__}: this folder is part of loadwatch"
                      + ("" if find_spec("loadwatch") else " (not installed here yet: pip install -e .)"))
