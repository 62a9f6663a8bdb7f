"""Built-in lint rules, one per module named ``APIMnnn_snake_name``; registered in toolkit.lint.registry."""
