"""Reads behind the console's dashboards, each limited to the locations a person may see."""
