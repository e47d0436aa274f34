"""Identity: users, roles and their scope (an enterprise trader is scoped to one enterprise)."""
