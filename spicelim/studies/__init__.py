"""Studies built on the crossbar API: read accuracy, IR drop, sneak paths."""
