"""``python -m adoption_model`` is the same as the ``adoption-model`` command."""

from adoption_model.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
