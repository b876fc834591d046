"""Device mutations pushed and changes pulled: offline work that is never lost."""
