"""The steward app's pages, one module per area."""
