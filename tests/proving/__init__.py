"""Stage proving: the table invariants (Pandera), the second computation, the shared cells."""
