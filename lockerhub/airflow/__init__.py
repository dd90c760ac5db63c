"""lockerhub as an Apache Airflow provider: connection types, hooks and the task functions the DAGs in ``dags/``
call.

``provider`` (the ``apache_airflow_provider`` entry point) imports nothing from Airflow; ``hooks`` and
``notifier`` need the ``airflow`` extra; ``tasks`` imports Airflow only when it reads a Connection, so its
functions also run outside Airflow (from the environment and the YAML config alone).
"""
