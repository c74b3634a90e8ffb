"""Many runners at once: ``loadwatch cohort import|status`` on Dask distributed.

A cohort is a folder holding one folder (or one export archive) per runner.  Each runner is imported and
measured by the very functions the single-runner product uses - :func:`ingest.importer.import_paths`
into the runner's own store, then :func:`metrics.report.build_report` - so a clinic's numbers are the
runner's numbers.  Dask only decides where each runner runs.

* :mod:`cohort.runner` - one runner's work (no Dask): discover, import, report, flatten to table rows,
  the status row and its concern order.
* :mod:`cohort.engine` - the cohort on a Dask cluster and the Parquet tables it writes.

Dask and pyarrow are the ``cohort`` extra (``pip install -e '.[cohort]'``): they are imported inside
the functions that need them, so the single-runner product never loads them.
"""
