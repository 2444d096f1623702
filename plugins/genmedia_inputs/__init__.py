"""genmedia built-in plugin: inputs."""
