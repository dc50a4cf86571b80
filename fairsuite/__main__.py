"""``python -m fairsuite`` runs the command-line interface."""

from fairsuite.cli import main

if __name__ == "__main__":
    main()
