"""The dock panels. `PANEL_CLASSES` lists them in their default order; each has a unique `name`."""
