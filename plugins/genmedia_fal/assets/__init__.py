"""The fal Assets library: the ``genmedia assets`` command tree of the fal plugin.

A fal-only feature, so it lives in the fal plugin and talks to fal through the plugin's
own :class:`~genmedia_fal.client.FalClient` (hosts, key, retries). Registered by
:func:`genmedia_fal.plugin.genmedia_register_commands`; see docs/assets.md.
"""
