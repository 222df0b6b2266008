"""Stage public copy: suppression and its audit, a first release and revisions."""
