"""What lets a build redo only what changed: the build cache, the ledger of what a build read, and page
signatures."""
