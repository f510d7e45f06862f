"""The scale-out drill (``drill.py``, ``make drill``) and the programs it runs against the
drill's own database, each a script run in a child process by ``Cluster.run_program``:

- ``setup_data.py``: the working calendars and the drill's accounts;
- ``cohort.py``: a cohort of cases submitted 30 days ago (their stage clocks already overdue);
- ``drained.py``: what is still to deliver or to flag;
- ``cohort_refs.py``: the references of the cohorts' cases;
- ``check.py``: the checks read from the database.
"""
