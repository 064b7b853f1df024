"""The long-lived preview and `watch`: noticing saves, keeping the last build in memory, serving it."""
