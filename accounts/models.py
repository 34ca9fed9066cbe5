"""No tables: roles are Django groups (see roles.py)."""
