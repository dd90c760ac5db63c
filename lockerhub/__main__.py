"""``python -m lockerhub`` is the ``lockerhub`` command."""

from lockerhub.cli import main

main()
