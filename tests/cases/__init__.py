"""Case tables: one table of cases per rule that more than one implementation follows."""
