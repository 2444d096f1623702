"""genmedia's built-in ``batch`` plugin: ``genmedia batch``, many jobs from one command with
bounded concurrency, exactly once (a resumable journal), within a budget."""
