"""genmedia gallery: a static, self-contained HTML gallery of the runs in the journal."""
