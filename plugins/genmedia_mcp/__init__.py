"""genmedia mcp: the command tree as Model Context Protocol tools, over stdio."""
